// What the stress checks read of a store, through the store itself (a fresh
// process's view: snapshot + journal, event segments), never by parsing its
// files — their format is the store's business.
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type ApiKey, type KeywardEvent, allEvents, createJsonFileStore } from '@keyward/core';

export interface StoreView {
  keys: Record<string, ApiKey>;
  events: KeywardEvent[];
  /** Damaged records or lines the store skipped or cut away on opening (a torn journal tail). */
  problems: string[];
}

/** Opens the store as a new process would; throws when it does not open. */
export async function viewStore(path: string): Promise<StoreView> {
  const problems: string[] = [];
  const store = createJsonFileStore(path, { onProblem: (m) => problems.push(m) });
  try {
    const keys = (await store.findKeys({ limit: 10_000_000, now: Date.now() })).data;
    return { keys: Object.fromEntries(keys.map((k) => [k.id, k])), events: await allEvents(store), problems };
  } finally {
    await store.close();
  }
}

/** The text of every file of the store's folder, to look for what must never be written. */
export function storeText(path: string): string {
  return readdirSync(dirname(path), { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => readFileSync(join(d.parentPath ?? d.path, d.name), 'latin1'))
    .join('\n');
}
