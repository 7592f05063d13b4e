// Builds large stores quickly by writing the document directly (the engine
// would fsync once per key), with real tokens and their real hashes.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { type ApiKey, DEFAULT_SETTINGS, type KeywardEvent, type StoreDocument, copyStore, hashToken, newEvent, newKeyId, newToken, openStore } from '@keyward/core';
import type { UsageCount } from '../packages/core/src/store/boundary.js';
import { EventSegments } from '../packages/core/src/store/json/event-segments.js';
import { UsageAggregates } from '../packages/core/src/store/json/usage-aggregates.js';

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

/** A new database `name` on the PostgreSQL server at `serverUrl` (a superuser's URL), holding what `built` holds (copied, hashes and all); its URL. */
export async function postgresCopyOf(serverUrl: string, name: string, built: BuiltStore): Promise<string> {
  const c = new pg.Client(serverUrl);
  await c.connect();
  try {
    await c.query(`CREATE DATABASE ${name}`);
  } finally {
    await c.end();
  }
  const url = Object.assign(new URL(serverUrl), { pathname: `/${name}` }).toString();
  const [from, to] = [await openStore(built.path), await openStore(url)];
  try {
    await copyStore(from, to);
  } finally {
    await Promise.all([from.close(), to.close()]);
  }
  return url;
}

export interface BuiltHistory {
  eventsDir: string;
  usageDir: string;
  keyIds: string[];
  newestEventId: string;
}

/**
 * A history of `events` aggregated `api-key.used` events, as servers leave it:
 * `keys` busy keys, each flushed every 10 s (so 10k events are 83 minutes and
 * 1M events about six days of 20 keys), written through the day segments and
 * usage aggregates beside `storePath` and rolled up as a running server would
 * have (closed hours per minute, old days per hour).
 */
export async function buildHistory(events: number, opts: { keyIds?: string[]; storePath?: string } = {}): Promise<BuiltHistory> {
  const base = (opts.storePath ?? join(mkdtempSync(join(tmpdir(), 'keyward-bench-history-')), 'keyward.json')).replace(/\.json$/, '');
  const eventsDir = `${base}.events`;
  const usageDir = `${base}.usage`;
  const segments = new EventSegments(eventsDir);
  const usage = new UsageAggregates(usageDir, { rollUpEveryMs: 0 });
  const keyIds = opts.keyIds ?? Array.from({ length: 20 }, () => newKeyId());
  const keys = keyIds.length;
  const now = Date.now();
  const step = 10_000 / keys;
  let batch: KeywardEvent[] = [];
  let counts: UsageCount[] = [];
  let hour = -1;
  let newestEventId = '';
  for (let i = 0; i < events; i++) {
    const t = Math.round(now - (events - i) * step);
    const keyId = keyIds[i % keys];
    const uses = 1 + (i % 50);
    const event = newEvent('api-key.used', t, `dev${i % keys}`, keyId, { uses, from: new Date(t - 10_000).toISOString(), to: new Date(t).toISOString() });
    batch.push(event);
    newestEventId = event.id;
    // One flush line per hour here (a server writes one per flush): the roll-up folds both alike.
    if (Math.floor(t / 3_600_000) !== hour && counts.length > 0) {
      await usage.record(counts, counts[counts.length - 1].lastUsed);
      counts = [];
    }
    hour = Math.floor(t / 3_600_000);
    counts.push({ keyId, minute: Math.floor(t / 60_000), uses, lastUsed: t, addresses: [{ address: `10.0.${i % 3}.${i % keys}`, lastSeen: t }] });
    if (batch.length >= 10_000) {
      await segments.append(batch);
      batch = [];
    }
  }
  await segments.append(batch);
  if (counts.length > 0) await usage.record(counts, counts[counts.length - 1].lastUsed);
  await usage.rollUp();
  return { eventsDir, usageDir, keyIds, newestEventId };
}
