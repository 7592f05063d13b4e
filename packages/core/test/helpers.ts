import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Clock, type Store, createEngine, createJsonFileStore, initStore, manualClock } from '../src/index.js';

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
    .map((d) => {
      const file = join(d.parentPath ?? d.path, d.name);
      return { file, text: readFileSync(file, encoding) };
    });
}
