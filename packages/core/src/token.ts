// Token format: kw_<key id: 24 hex>_<secret: 32 base32 = 160 random bits><checksum: 8 hex>
//
// The prefix makes a Keyward token recognisable to scanners and the editor,
// the key id lets verify find the key without a scan, and the CRC-32 checksum
// lets a mistyped or truncated token be rejected without touching the store.
// Only the SHA-256 of the whole token is stored; the secret is random enough
// (≥128 bits) that a fast hash is the right one (no password stretching).

import * as crypto from 'node:crypto';
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { randomBytesDrawn, randomHex } from './random.js';

export const TOKEN_PREFIX = 'kw_';
export const KEY_ID_PATTERN = /^[0-9a-f]{24}$/;
/** Whether `id` (anything a caller sent) is a key id: 24 hexadecimal characters. */
export const isKeyId = (id: unknown): id is string => typeof id === 'string' && KEY_ID_PATTERN.test(id);
/** Whether `text` (lowercase) may be found in a key id: hexadecimal, and no longer than one. */
export const mayBeInKeyId = (text: string): boolean => /^[0-9a-f]{0,24}$/.test(text);
/** Finds candidate tokens in free text (the editor, scanners). */
export const TOKEN_IN_TEXT = /\bkw_[0-9a-f]{24}_[a-z2-7]{32}[0-9a-f]{8}\b/g;
/**
 * Where a token's secret begins in text: the key id, `_`, and one character
 * more — a whole token, run on into other text or not, or any piece of one
 * past its key id (a token cut short still gives its secret away; the key id
 * alone does not). What redactTokensIn cuts, and stored text refuses.
 */
export const TOKEN_SECRET_IN_TEXT = /kw_[0-9a-f]{24}_[0-9A-Za-z]/;
export const TOKEN_LENGTH = 3 + 24 + 1 + 32 + 8;

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

export function newKeyId(): string {
  return randomHex(12);
}

function base32(bytes: Buffer): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

function checksum(body: string): string {
  return crc32(body).toString(16).padStart(8, '0');
}

/** A new token for a key id. The caller shows it once and keeps only `hashToken(token)`. */
export function newToken(keyId: string): string {
  const body = `${TOKEN_PREFIX}${keyId}_${base32(randomBytesDrawn(20))}`;
  return body + checksum(body);
}

export type TokenParse = { ok: true; keyId: string } | { ok: false; reason: 'malformed' | 'checksum' };

// CRC-32 (the zlib polynomial) computed in plain JS over the ASCII text:
// verify is the hot path, and a regex plus zlib's crc32 (which first encodes
// the string) cost more than the SHA-256 that follows. Characters outside the
// token alphabet need no separate check: they fail the checksum (or, for a
// crafted token, the key lookup).
const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();
const CHECKSUM_START = TOKEN_LENGTH - 8;

const MALFORMED: TokenParse = Object.freeze({ ok: false, reason: 'malformed' });
const CHECKSUM: TokenParse = Object.freeze({ ok: false, reason: 'checksum' });

/** Whether a text is shaped like a token (length, prefix, separator); the checksum is not checked. */
export function isTokenShaped(token: unknown): token is string {
  return typeof token === 'string' && token.length === TOKEN_LENGTH && token.charCodeAt(0) === 107 && token.charCodeAt(1) === 119 && token.charCodeAt(2) === 95 && token.charCodeAt(27) === 95;
}

/** The key id of a token-shaped text. */
export function keyIdOf(token: string): string {
  return token.slice(3, 27);
}

/** The key id of text shaped like a token, or undefined; the checksum is not checked. */
export function keyIdOfShape(token: unknown): string | undefined {
  return isTokenShaped(token) ? keyIdOf(token) : undefined;
}

// A key id's first 12 hex digits (48 random bits): what verify's cache is
// indexed by. V8 copies a slice this short into a flat string, cheap to hash
// and compare; a 24-character slice stays a view of the token and costs twice
// as much per lookup. Two keys sharing 48 bits is one chance in ~10^5 at a
// full cache of 50,000: they then take turns in the cache, never each other's
// answers (the digest and the id are checked).
const ID_HEAD_END = 3 + 12;

/** The head of a token-shaped text's key id: verify's cache index. */
export function keyIdHeadOf(token: string): string {
  return token.slice(3, ID_HEAD_END);
}

/** The head of a key id, as `keyIdHeadOf` takes it from the key's tokens. */
export function keyIdHead(keyId: string): string {
  return keyId.slice(0, ID_HEAD_END - 3);
}

/** Whether a token-shaped text names this key id. */
export function namesKeyId(token: string, keyId: string): boolean {
  return keyId.length === 24 && token.startsWith(keyId, 3);
}

/** 0 when the checksum of a token-shaped text is right, else why not. */
function checksumOf(token: string): 0 | TokenParse {
  let crc = -1;
  for (let i = 0; i < CHECKSUM_START; i++) crc = CRC_TABLE[(crc ^ token.charCodeAt(i)) & 0xff] ^ (crc >>> 8);
  let presented = 0;
  for (let i = CHECKSUM_START; i < TOKEN_LENGTH; i++) {
    const c = token.charCodeAt(i);
    const v = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -1;
    if (v < 0) return MALFORMED;
    presented = presented * 16 + v;
  }
  return ((crc ^ -1) >>> 0) !== presented ? CHECKSUM : 0;
}

/** Whether a token-shaped text carries a right checksum (a mistyped or made-up token does not). */
export function hasValidChecksum(token: string): boolean {
  return checksumOf(token) === 0;
}

/** Checks prefix, length and checksum only: no store, no hashing. */
export function parseToken(token: unknown): TokenParse {
  const keyId = keyIdOfShape(token);
  if (keyId === undefined) return MALFORMED;
  const bad = checksumOf(token as string);
  return bad === 0 ? { ok: true, keyId } : bad;
}

/** True when text looks like a well-formed Keyward token (prefix, shape and checksum). */
export function isWellFormedToken(text: string): boolean {
  return parseToken(text).ok;
}

/** The SHA-256 digest of a token, as the hex text the store keeps. */
export function hashToken(token: string): string {
  return oneShot ? oneShot('sha256', token, 'hex') : createHash('sha256').update(token).digest('hex');
}

// One-shot hashing (Node ≥ 20.12) is several times faster than a Hash object
// for a 68-byte input; the fallback keeps older Node 20 releases working.
const oneShot = (crypto as { hash?: (alg: string, data: string, enc: string) => string }).hash;

/**
 * The SHA-256 digest of a token as a 16-unit UTF-16 string (two bytes per
 * unit): the form verify compares. Producing a string is cheaper than
 * producing a Buffer, and a constant-time compare costs per unit, so 16 units
 * cost half of the 32 a latin1 string would (charCodeAt is most of verify's
 * own time).
 */
export function digestToken(token: string): string {
  return oneShot ? oneShot('sha256', token, 'utf16le') : createHash('sha256').update(token).digest().toString('utf16le');
}

/** A stored hex digest in the form `digestToken` returns. */
export function digestFromHex(hex: string): string {
  return Buffer.from(hex, 'hex').toString('utf16le');
}

/**
 * Compares two digests in time that depends only on their length, never on
 * where they differ. (timingSafeEqual needs Buffers, which cost more to make
 * than the whole comparison.)
 */
export function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** Constant-time comparison of a presented token with a stored hex digest. */
export function tokenMatches(token: string, storedHex: string): boolean {
  return constantTimeEqual(digestToken(token), digestFromHex(storedHex));
}

// Anything that starts like a token: the prefix, then enough of the alphabet
// that it could be a whole token or a piece of one. A key id may stay (it is
// not secret); everything after it goes.
const TOKEN_LIKE = /kw_([0-9a-f]{24})_[0-9A-Za-z]*|kw_[0-9A-Za-z_]{8,}/g;

/**
 * Text with every token-looking part cut down to its key id, so a message
 * that echoes what a client sent (a token given as a key id, a url) never
 * carries a token or a piece of its secret.
 */
export function redactTokensIn(text: string): string {
  return text.includes('kw_') ? text.replace(TOKEN_LIKE, (_, id: string | undefined) => (id ? `kw_${id}_…` : 'kw_…')) : text;
}

/** A short, safe label for a token in logs and messages: never the secret. */
export function redactToken(token: string): string {
  const p = parseToken(token);
  return p.ok ? `kw_${p.keyId}_…` : '[malformed token]';
}
