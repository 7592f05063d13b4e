// copyStore's progress: told after each page written, counts only growing,
// the keys first, then the events with how far in time they have got, and the
// last word matching the report. (The copy itself, both ways with PostgreSQL: postgres/copy.pg.test.ts.)
import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, type ApiKey } from '../src/domain.js';
import { newEvent } from '../src/events.js';
import { type CopyProgress, copyStore } from '../src/store/copy.js';
import { MemoryStore } from '../src/store/memory.js';

const NOW = Date.parse('2026-03-10T12:30:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

describe('store copy progress', () => {
  it('tells keys, then events copied with the time reached, each page, up to the report', async () => {
    const source = new MemoryStore();
    await source.create({ tenant: { id: 't', name: 'Acme', created: iso(NOW), settings: { ...DEFAULT_SETTINGS } }, users: [{ id: 'alice', licence: true, roles: ['TenantAdmin', 'Developer'], created: iso(NOW) }], events: [] });
    const keys: ApiKey[] = Array.from({ length: 2100 }, (_, i) => ({ id: i.toString(16).padStart(24, '0'), description: `k${i}`, owner: 'alice', createdBy: 'alice', created: iso(NOW - i), lastUpdated: iso(NOW - i), expiry: iso(NOW + 86_400_000), hash: i.toString(16).padStart(64, 'f') }));
    await source.transact((tx) => keys.forEach((k) => tx.putKey(k)));
    await source.append(Array.from({ length: 3500 }, (_, i) => newEvent('api-key.used', NOW - 100_000 + i, 'alice', keys[i % 10].id, { uses: 1 })));
    const told: CopyProgress[] = [];
    const report = await copyStore(source, new MemoryStore(), { now: () => NOW }, (p) => told.push({ ...p }));
    // Keys a page (1000) at a time, none of the events yet.
    const none = { keysCopied: false, events: 0 };
    expect(told.slice(0, 3)).toEqual([{ keys: 1000, ...none }, { keys: 2000, ...none }, { keys: 2100, ...none }]);
    // Then the keys done, then the events copied a page at a time, each read once, oldest first (the newest page is
    // the short one), each telling when its last event happened.
    expect(told[3]).toEqual({ keys: 2100, keysCopied: true, events: 0 });
    const through = (i: number) => NOW - 100_000 + i;
    expect(told.slice(4).map((p) => [p.events, p.eventsThrough])).toEqual([
      [1000, through(999)],
      [2000, through(1999)],
      [3000, through(2999)],
      [3500, through(3499)],
    ]);
    expect(report).toMatchObject({ keys: 2100, events: 3500 });
  });
});
