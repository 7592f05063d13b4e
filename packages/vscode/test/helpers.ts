// A real engine for the extension's tests: a tenant with API keys on, alice
// (admin and developer), bob (developer) and carol (licence, no role).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { type Clock, type KeyService, type Store, createEngine, createJsonFileStore, createMemoryStore, initStore } from '@keyward/core';

export interface Tenant {
  store: Store;
  as(user: string): KeyService;
  alice: KeyService;
  bob: KeyService;
  carol: KeyService;
}

export async function tenant(opts: { store?: Store; clock?: Clock } = {}): Promise<Tenant> {
  const store = opts.store ?? createMemoryStore();
  await initStore(store, { admin: 'alice', clock: opts.clock });
  const engine = createEngine(store, { clock: opts.clock, usageFlushMs: 0 });
  const alice = engine.as('alice');
  await alice.updateSettings({ api_keys_enabled: true });
  await alice.updateUser('alice', { developer: true });
  await alice.addUser('bob', { licence: true });
  await alice.updateUser('bob', { developer: true });
  await alice.addUser('carol', { licence: true });
  return { store, as: (u) => engine.as(u), alice, bob: engine.as('bob'), carol: engine.as('carol') };
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A fresh temporary directory, removed after the test. */
export function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'keyward-vscode-'));
  dirs.push(d);
  return d;
}

/** A tenant on a JSON store file in a temporary directory. */
export async function fileTenant(opts: { clock?: Clock } = {}): Promise<Tenant & { path: string }> {
  const path = join(tempDir(), 'keyward.json');
  return { ...(await tenant({ store: createJsonFileStore(path), clock: opts.clock })), path };
}

/**
 * A service on the store file as another process would open it. An engine
 * that has read the file recently may verify against its cached copy for up
 * to 100 ms (core's `peek`), so a check after another process wrote uses a
 * fresh one.
 */
export function freshService(path: string, user: string): KeyService {
  return createEngine(createJsonFileStore(path)).as(user);
}

/** Waits until `check` stops throwing (for work the code under test starts but does not await). */
export async function eventually<T>(check: () => T | Promise<T>, what = 'condition', ms = 10_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    try {
      return await check();
    } catch (e) {
      if (Date.now() - start > ms) throw new Error(`${what} did not hold within ${ms} ms: ${(e as Error).message}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
