// eventPagesOldestFirst: the whole history, oldest first, a page at a time —
// what `keyward store copy` appends to its target, in that order — on the
// memory store and on the JSON store's day segments.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, type KeywardEvent } from '../src/domain.js';
import { newEvent } from '../src/events.js';
import type { Store } from '../src/store/boundary.js';
import { allEvents, eventPagesOldestFirst } from '../src/store/all-events.js';
import { MemoryStore } from '../src/store/memory.js';
import { createJsonFileStore } from '../src/store/json/store.js';

const NOW = Date.now();

async function withEvents(store: Store, n: number): Promise<KeywardEvent[]> {
  await store.create({ tenant: { id: 't', name: 'Acme', created: new Date(NOW).toISOString(), settings: { ...DEFAULT_SETTINGS } }, users: [{ id: 'alice', licence: true, roles: ['TenantAdmin'], created: new Date(NOW).toISOString() }], events: [] });
  // Over three days, some of each type, appended in batches as servers do.
  const events = Array.from({ length: n }, (_, i) => newEvent(i % 4 ? 'api-key.used' : 'api-key.generated', NOW - 3 * 86_400_000 + i * 60_000, 'alice', undefined, { i }));
  for (let i = 0; i < events.length; i += 97) await store.append(events.slice(i, i + 97));
  return events;
}

const stores = {
  memory: () => new MemoryStore() as Store,
  'JSON file': () => createJsonFileStore(join(mkdtempSync(join(tmpdir(), 'keyward-all-events-')), 'keyward.json')) as Store,
};

describe.each(Object.entries(stores))('every event oldest first, on the %s store', (_, make) => {
  it('gives each event once, in append order, in pages of at most the size asked, whatever the size', async () => {
    const store = make();
    const events = await withEvents(store, 2345);
    for (const size of [1, 7, 1000, 2345, 5000]) {
      const pages: KeywardEvent[][] = [];
      for await (const page of eventPagesOldestFirst(store, {}, size)) pages.push(page);
      expect(pages.every((p) => p.length > 0 && p.length <= size)).toBe(true);
      expect(pages.flat().map((e) => e.id)).toEqual(events.map((e) => e.id));
    }
    expect((await allEvents(store, { types: ['api-key.generated'] })).map((e) => e.id)).toEqual(events.filter((e) => e.eventType === 'api-key.generated').map((e) => e.id));
    await store.close();
  });

  it('gives the history as it was when it began: events appended meanwhile are left out, and none is skipped', async () => {
    const store = make();
    const events = await withEvents(store, 2345);
    const seen: string[] = [];
    let i = 0;
    for await (const page of eventPagesOldestFirst(store, {}, 100)) {
      seen.push(...page.map((e) => e.id));
      // More than a page's worth appended between pages: the newest page read again would have lost some.
      await store.append(Array.from({ length: 150 }, (_, k) => newEvent('api-key.used', NOW + (i * 150 + k) * 1000, 'alice', undefined, { late: true })));
      i++;
    }
    expect(seen).toEqual(events.map((e) => e.id));
    await store.close();
  });

  it('gives nothing for an empty history', async () => {
    const store = make();
    await withEvents(store, 0);
    expect(await allEvents(store)).toEqual([]);
    await store.close();
  });
});
