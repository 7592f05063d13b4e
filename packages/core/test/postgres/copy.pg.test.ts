// store copy between the memory store and PostgreSQL, both ways: everything
// the boundary answers is the same in the copy, and a non-empty target is refused.

import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, type ApiKey, type KeywardEvent } from '../../src/domain.js';
import type { Store } from '../../src/store/boundary.js';
import { copyStore } from '../../src/store/copy.js';
import { MemoryStore } from '../../src/store/memory.js';
import { createPostgresStore } from '../../src/store/postgres/store.js';
import { createTestDatabase } from '../../../../test/support/postgres.js';

const NOW = Date.parse('2026-03-10T12:30:00.000Z');
const clock = { now: () => NOW };
const iso = (ms: number) => new Date(ms).toISOString();
const closers: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of closers.reverse()) await c();
});

async function postgres(): Promise<Store> {
  const db = await createTestDatabase();
  const s = createPostgresStore(db.url);
  closers.push(() => db.drop(), () => s.close());
  return s;
}

async function filled(store: Store): Promise<void> {
  await store.create({
    tenant: { id: 'tenant1', name: 'Acme', created: iso(NOW - 90 * 86_400_000), settings: { ...DEFAULT_SETTINGS, apiKeysEnabled: true, maxKeysPerUser: 7 } },
    users: [
      { id: 'alice', licence: true, roles: ['TenantAdmin', 'Developer'], created: iso(NOW - 90 * 86_400_000) },
      { id: 'bob', licence: true, roles: ['Developer'], created: iso(NOW - 80 * 86_400_000) },
    ],
    events: [{ id: 'e0', eventType: 'user.added', eventTime: iso(NOW - 90 * 86_400_000), userId: 'alice', data: { user: 'alice' } }],
  });
  const keys: ApiKey[] = Array.from({ length: 2500 }, (_, i) => ({
    id: i.toString(16).padStart(24, '0'),
    description: `key ${i}`,
    owner: i % 3 ? 'bob' : 'alice',
    createdBy: 'alice',
    created: iso(NOW - (3000 - i) * 60_000),
    lastUpdated: iso(NOW - (3000 - i) * 60_000),
    expiry: iso(NOW + (i % 5 ? 86_400_000 : -1)),
    hash: i.toString(16).padStart(64, 'f'),
    ...(i % 7 === 0 ? { revokedAt: iso(NOW - 1000), revokedBy: 'alice' } : {}),
  }));
  for (let i = 0; i < keys.length; i += 500) await store.transact((tx) => keys.slice(i, i + 500).forEach((k) => tx.putKey(k)));
  const events: KeywardEvent[] = keys.map((k, i) => ({ id: `ev${i.toString().padStart(6, '0')}`, eventType: 'api-key.generated', eventTime: k.created, userId: 'alice', keyId: k.id, data: { i } }));
  await store.append(events);
  const m = Math.floor(NOW / 60_000);
  await store.recordUsage(
    [
      { keyId: keys[1].id, minute: m, uses: 5, lastUsed: NOW - 100, addresses: [{ address: '127.0.0.9', lastSeen: NOW - 100 }] },
      { keyId: keys[1].id, minute: m - 60 * 30, uses: 7, lastUsed: (m - 60 * 30) * 60_000 + 5 },
      { keyId: keys[2].id, minute: m - 60 * 24 * 10, uses: 11, lastUsed: (m - 60 * 24 * 10) * 60_000 + 9, addresses: [{ address: '::1', lastSeen: (m - 60 * 24 * 10) * 60_000 + 9 }] },
    ],
    [],
  );
}

async function everything(store: Store) {
  const keys: ApiKey[] = [];
  let page = await store.findKeys({ limit: 700, now: NOW });
  keys.push(...page.data);
  while (page.hasNext) {
    page = await store.findKeys({ limit: 700, now: NOW, startingAfter: page.data[page.data.length - 1].id });
    keys.push(...page.data);
  }
  const events = (await store.findEvents({ limit: 5000 })).data;
  const ids = keys.map((k) => k.id);
  return {
    tenant: await store.tenant(),
    users: await store.listUsers(),
    keys,
    active: await store.countActiveKeys('bob', NOW),
    events,
    usage: [NOW - 3_600_000, NOW - 3 * 86_400_000, NOW - 30 * 86_400_000].map(async (since) => (await store.usageSince(since)).sort((a, b) => (a.keyId < b.keyId ? -1 : 1))),
    last: [...(await store.lastUsedOf(ids)).values()].sort((a, b) => (a.keyId < b.keyId ? -1 : 1)),
  };
}

async function resolved(x: Awaited<ReturnType<typeof everything>>) {
  return { ...x, usage: await Promise.all(x.usage) };
}

describe('store copy', () => {
  it('memory → PostgreSQL → memory keeps every record, every event in order, and usage at its grain', async () => {
    const source = new MemoryStore();
    await filled(source);
    const pg = await postgres();
    const there = await copyStore(source, pg, clock);
    expect(there).toEqual({ tenant: 'Acme', users: 2, keys: 2500, events: 2501, keysWithUsage: 2 });
    const back = new MemoryStore();
    await copyStore(pg, back, clock);
    const original = await resolved(await everything(source));
    expect(await resolved(await everything(pg))).toEqual(original);
    expect(await resolved(await everything(back))).toEqual(original);
    expect(original.usage[2].map((u) => [u.keyId, u.uses])).toEqual([
      ['000000000000000000000001', 12],
      ['000000000000000000000002', 11],
    ]);
  });

  it('memory → PostgreSQL → memory keeps the last use of a key whose minutes retention removed (no address seen) — lost before: PostgreSQL and memory dropped a count with no use and no address', async () => {
    const source = new MemoryStore();
    await filled(source);
    const old = NOW - 200 * 86_400_000;
    const used = '000000000000000000000003';
    await source.recordUsage([{ keyId: used, minute: Math.floor(old / 60_000), uses: 2, lastUsed: old }], []);
    await source.removeBefore(NOW - 100 * 86_400_000);
    expect((await source.usageSince(0, [used]))[0].uses).toBe(0);
    expect((await source.lastUsedOf([used])).get(used)?.lastUsed).toBe(old);
    const pg = await postgres();
    await copyStore(source, pg, clock);
    const back = new MemoryStore();
    await copyStore(pg, back, clock);
    expect([(await pg.lastUsedOf([used])).get(used)?.lastUsed, (await back.lastUsedOf([used])).get(used)?.lastUsed]).toEqual([old, old]);
  });

  it('refuses a target that holds a tenant, and a source that holds none, changing nothing', async () => {
    const source = new MemoryStore();
    await filled(source);
    const pg = await postgres();
    await copyStore(source, pg, clock);
    await expect(copyStore(source, pg, clock)).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringMatching(/already holds a Keyward tenant/) });
    expect((await pg.findKeys({ limit: 1, now: NOW })).total).toBe(2500);
    await expect(copyStore(new MemoryStore(), new MemoryStore(), clock)).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringMatching(/no Keyward tenant/) });
  });
});
