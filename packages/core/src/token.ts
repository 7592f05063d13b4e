// Token format: kw_<key id: 24 hex>_<secret: 32 base32 = 160 random bits><checksum: 8 hex>
//
// The prefix makes a Keyward token recognisable to scanners and the editor,
// the key id lets verify find the key without a scan, and the CRC-32 checksum
// lets a mistyped or truncated token be rejected without touching the store.
// Only the SHA-256 of the whole token is stored; the secret is random enough
// (≥128 bits) that a fast hash is the right one (no password stretching).

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { crc32 } from 'node:zlib';

export const TOKEN_PREFIX = 'kw_';
export const KEY_ID_PATTERN = /^[0-9a-f]{24}$/;
const TOKEN_PATTERN = /^kw_([0-9a-f]{24})_([a-z2-7]{32})([0-9a-f]{8})$/;
/** Finds candidate tokens in free text (the editor, scanners). */
export const TOKEN_IN_TEXT = /\bkw_[0-9a-f]{24}_[a-z2-7]{32}[0-9a-f]{8}\b/g;
export const TOKEN_LENGTH = 3 + 24 + 1 + 32 + 8;

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

export function newKeyId(): string {
  return randomBytes(12).toString('hex');
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
  const body = `${TOKEN_PREFIX}${keyId}_${base32(randomBytes(20))}`;
  return body + checksum(body);
}

export type TokenParse = { ok: true; keyId: string } | { ok: false; reason: 'malformed' | 'checksum' };

/** Checks shape and checksum only: no store, no hashing. */
export function parseToken(token: unknown): TokenParse {
  if (typeof token !== 'string' || token.length !== TOKEN_LENGTH) return { ok: false, reason: 'malformed' };
  const m = TOKEN_PATTERN.exec(token);
  if (!m) return { ok: false, reason: 'malformed' };
  if (checksum(token.slice(0, TOKEN_LENGTH - 8)) !== m[3]) return { ok: false, reason: 'checksum' };
  return { ok: true, keyId: m[1] };
}

/** True when text looks like a well-formed Keyward token (prefix, shape and checksum). */
export function isWellFormedToken(text: string): boolean {
  return parseToken(text).ok;
}

/** The SHA-256 digest of a token, as the hex text the store keeps. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Constant-time comparison of a presented token with a stored hex digest. */
export function tokenMatches(token: string, storedHex: string): boolean {
  const presented = createHash('sha256').update(token).digest();
  const stored = Buffer.from(storedHex, 'hex');
  return stored.length === presented.length && timingSafeEqual(presented, stored);
}

/** A short, safe label for a token in logs and messages: never the secret. */
export function redactToken(token: string): string {
  const p = parseToken(token);
  return p.ok ? `kw_${p.keyId}_…` : '[malformed token]';
}
