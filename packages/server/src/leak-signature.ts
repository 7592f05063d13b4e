// GitHub's secret scanning partner protocol: a report is signed with ECDSA
// P-256 / SHA-256 over the raw body; the signature (base64 DER) and the id of
// the signing key arrive in headers, and the public keys are the JSON GitHub
// publishes, `{public_keys:[{key_identifier, key, is_current}]}`, which
// `keyward serve --leak-keys FILE` reads. The signature is the only
// authentication such a report has, so it is checked before anything else.

import { type KeyObject, createPublicKey, verify } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { KeywardError, printable } from '@keyward/core';

/** Public keys by key_identifier. Keys no longer current still verify: GitHub names the key it used. */
export type LeakKeys = ReadonlyMap<string, KeyObject>;

/** Parses GitHub's public keys document; refuses one that holds no usable P-256 key. */
export function parseLeakKeys(text: string, source: string): LeakKeys {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new KeywardError('INVALID_INPUT', `${source} is not JSON; give the public keys document GitHub publishes ({"public_keys":[…]}).`);
  }
  const list = (doc as { public_keys?: unknown })?.public_keys;
  if (!Array.isArray(list) || list.length === 0) throw new KeywardError('INVALID_INPUT', `${source} has no public_keys list.`);
  const keys = new Map<string, KeyObject>();
  list.forEach((entry, i) => {
    const { key_identifier: id, key } = (entry ?? {}) as Record<string, unknown>;
    if (typeof id !== 'string' || id === '' || typeof key !== 'string') throw new KeywardError('INVALID_INPUT', `Entry ${i} of ${source} needs a key_identifier and a key.`);
    let k: KeyObject;
    try {
      k = createPublicKey(key);
    } catch {
      throw new KeywardError('INVALID_INPUT', `The key "${printable(id)}" in ${source} is not a PEM public key.`);
    }
    if (k.asymmetricKeyType !== 'ec' || k.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
      throw new KeywardError('INVALID_INPUT', `The key "${printable(id)}" in ${source} is not an ECDSA P-256 key.`);
    }
    keys.set(id, k);
  });
  return keys;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
}

/** The two headers a signed report must carry; undefined when either is missing. */
export function signatureHeaders(req: IncomingMessage): { keyId: string; signature: string } | undefined {
  const keyId = header(req, 'github-public-key-identifier');
  const signature = header(req, 'github-public-key-signature');
  return keyId && signature ? { keyId, signature } : undefined;
}

/** Whether `body` was signed by the named key. */
export function signedBy(keys: LeakKeys, keyId: string, signature: string, body: Buffer): boolean {
  const key = keys.get(keyId);
  if (!key || !/^[A-Za-z0-9+/]+={0,2}$/.test(signature)) return false;
  try {
    return verify('sha256', body, { key, dsaEncoding: 'der' }, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}
