import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ApiKey, type Clock, KeywardError, type Store, createEngine, createJsonFileStore, initStore, manualClock } from '../src/index.js';

/**
 * A store that hands out copies of what `methods` read, as PostgreSQL's
 * record cache does: caches of wire texts must then compare records, not
 * identities.
 */
export function handingOutCopies(store: Store, methods: readonly PropertyKey[] = ['tenant', 'getUser', 'listUsers']): Store {
  const copied = new Set<PropertyKey>(methods);
  return new Proxy(store, {
    get(target, p) {
      const v = Reflect.get(target, p, target) as unknown;
      if (typeof v !== 'function') return v;
      if (copied.has(p)) return async (...args: unknown[]) => structuredClone(await (v as (...a: unknown[]) => Promise<unknown>).apply(target, args));
      return (v as (...a: unknown[]) => unknown).bind(target);
    },
  });
}

export function tempStorePath(): string {
  return join(mkdtempSync(join(tmpdir(), 'keyward-core-')), 'store.json');
}

/**
 * A store with an admin (alice, also a developer) and two developers (bob,
 * carol), keys enabled and a high key limit — the common start of a test.
 */
export async function seededStore(opts: { store?: Store; clock?: Clock; maxKeys?: number } = {}) {
  const store = opts.store ?? createJsonFileStore(tempStorePath());
  const clock = opts.clock ?? manualClock();
  await initStore(store, { admin: 'alice', clock });
  const engine = createEngine(store, { clock, usageFlushMs: 0 });
  const alice = engine.as('alice');
  await alice.updateSettings({ api_keys_enabled: true, max_keys_per_user: opts.maxKeys ?? 1000 });
  await alice.updateUser('alice', { developer: true });
  for (const name of ['bob', 'carol']) {
    await alice.addUser(name, { licence: true });
    await alice.updateUser(name, { developer: true });
  }
  return { store, engine, clock, alice, bob: engine.as('bob'), carol: engine.as('carol') };
}

/** The text of every file of a store's folder, sub-folders (event segments, usage) included. */
export function everyFileText(dir: string, encoding: BufferEncoding = 'utf8'): { file: string; text: string }[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .flatMap((d) => {
      const file = join(d.parentPath ?? d.path, d.name);
      try {
        return [{ file, text: readFileSync(file, encoding) }];
      } catch (e) {
        // A lock file given back between the listing and the read: nothing to look at.
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw e;
      }
    });
}

/**
 * A stored key of `owner` as the policy tables see it at 2026-06-01: active
 * (expiring 2026-07-01), expired, revoked, or rotated (active for the overlap).
 */
export function storedKey(owner: string, state: 'active' | 'expired' | 'revoked' | 'rotated'): ApiKey {
  return {
    id: 'a'.repeat(24),
    description: 'k',
    owner,
    createdBy: owner,
    created: '2026-05-01T00:00:00Z',
    lastUpdated: '2026-05-01T00:00:00Z',
    expiry: state === 'expired' ? '2026-05-31T00:00:00Z' : '2026-07-01T00:00:00Z',
    ...(state === 'revoked' ? { revokedAt: '2026-05-15T00:00:00Z' } : {}),
    ...(state === 'rotated' ? { rotatedTo: 'b'.repeat(24) } : {}),
    hash: '0'.repeat(64),
  };
}

/** What a promise that may be refused ends in: its KeywardError, or 'ok' (anything else is rethrown). */
async function outcome(p: Promise<unknown>): Promise<KeywardError | 'ok'> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    if (e instanceof KeywardError) return e;
    throw e;
  }
}

/** The refusal code of a promise that should fail with a KeywardError, or 'ok'. */
export async function refusal(p: Promise<unknown>): Promise<string> {
  const r = await outcome(p);
  return r === 'ok' ? 'ok' : r.code;
}

/** The KeywardError a promise fails with, to read its message too; a promise that succeeds fails the test. */
export async function refusalError(p: Promise<unknown>): Promise<KeywardError> {
  const r = await outcome(p);
  if (r === 'ok') throw new Error('expected a refusal');
  return r;
}
