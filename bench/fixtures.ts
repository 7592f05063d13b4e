// Builds large stores quickly by writing the document directly (the engine
// would fsync once per key), with real tokens and their real hashes.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ApiKey, DEFAULT_SETTINGS, type StoreDocument, hashToken, newKeyId, newToken } from '@keyward/core';

export interface BuiltStore {
  path: string;
  doc: StoreDocument;
  /** Tokens of a sample of the keys, spread over the whole store. */
  tokens: string[];
}

export function buildStore(keys: number, sampleTokens = 1000, owners = 100): BuiltStore {
  const dir = mkdtempSync(join(tmpdir(), 'keyward-bench-'));
  const path = join(dir, 'keyward.json');
  const now = Date.now();
  const iso = new Date(now).toISOString();
  const users: StoreDocument['users'] = { admin: { id: 'admin', licence: true, roles: ['TenantAdmin', 'Developer'], created: iso } };
  for (let u = 0; u < owners; u++) users[`dev${u}`] = { id: `dev${u}`, licence: true, roles: ['Developer'], created: iso };
  const doc: StoreDocument = {
    version: 1,
    tenant: { id: 'benchtenant', name: 'bench', created: iso, settings: { ...DEFAULT_SETTINGS, apiKeysEnabled: true, maxKeysPerUser: 1000, maxKeyLifetime: 'P365D' } },
    users,
    keys: {},
  };
  const tokens: string[] = [];
  const every = Math.max(1, Math.floor(keys / sampleTokens));
  for (let i = 0; i < keys; i++) {
    const id = newKeyId();
    const token = newToken(id);
    const owner = `dev${i % owners}`;
    const key: ApiKey = {
      id,
      description: `service key ${i} for the ${['billing', 'search', 'deploy', 'reports'][i % 4]} team`,
      owner,
      createdBy: owner,
      created: new Date(now - (keys - i) * 1000).toISOString(),
      lastUpdated: iso,
      expiry: new Date(now + 300 * 86_400_000).toISOString(),
      hash: hashToken(token),
    };
    doc.keys[id] = key;
    // As a server receives it: a flat string decoded from bytes.
    if (i % every === 0 && tokens.length < sampleTokens) tokens.push(Buffer.from(token).toString('latin1'));
  }
  writeFileSync(path, JSON.stringify(doc), { mode: 0o600 });
  return { path, doc, tokens };
}
