// The v2 memory store: the answers every adapter is held to (keys found,
// sorted and paged; events newest first with cursors; usage aggregates;
// retention; the change signal).
import { describe, expect, it } from 'vitest';
import { type ApiKey, DEFAULT_SETTINGS, KeywardError, MemoryStore, type StoreChange, TenantState, newEvent } from '../src/index.js';

const T0 = Date.parse('2026-05-01T12:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

function key(i: number, over: Partial<ApiKey> = {}): ApiKey {
  const id = i.toString(16).padStart(24, '0');
  return { id, description: `key ${String(i).padStart(2, '0')}`, owner: i % 2 ? 'bob' : 'carol', createdBy: 'alice', created: iso(T0 + i * 1000), lastUpdated: iso(T0), expiry: iso(T0 + (30 - i) * 60_000), hash: 'h', ...over };
}

async function filled(n = 20) {
  const store = new MemoryStore();
  const tenant = { id: 't1', name: 'T', created: iso(T0), settings: { ...DEFAULT_SETTINGS } };
  expect(await store.create({ tenant, users: [{ id: 'alice', licence: true, roles: ['TenantAdmin'], created: iso(T0) }], events: [newEvent('user.added', T0, 'alice', undefined, {})] })).toBe(true);
  expect(await store.create({ tenant, users: [], events: [] })).toBe(false);
  await store.transact(async (tx) => {
    for (let i = 0; i < n; i++) {
      tx.putKey(key(i, i === 3 ? { revokedAt: iso(T0), revokedBy: 'alice' } : {}));
      tx.emit(newEvent('api-key.generated', T0 + i, 'alice', key(i).id, {}));
    }
  });
  return store;
}

const ids = (page: { data: { id: string }[] }) => page.data.map((k) => k.id);

describe('memory store (boundary v2)', () => {
  it('finds keys by owner, status and search, in every order, with keyset cursors and offsets', async () => {
    const store = await filled();
    const now = T0 + 10.5 * 60_000; // key i expires 30 - i minutes after T0: none has expired yet
    const all = await store.findKeys({ limit: 100, now, order: 'created', descending: true });
    expect(all.total).toBe(20);
    expect(all.data[0].id).toBe(key(19).id);
    expect((await store.findKeys({ limit: 100, now, owner: 'bob' })).total).toBe(10);
    expect(ids(await store.findKeys({ limit: 100, now, status: 'revoked' }))).toEqual([key(3).id]);
    expect((await store.findKeys({ limit: 100, now: T0 + 25.5 * 60_000, status: 'expired' })).total).toBe(15); // keys 5..19 (key 3 is revoked, which wins)
    expect(ids(await store.findKeys({ limit: 100, now, search: 'KEY 07' }))).toEqual([key(7).id]);
    expect(ids(await store.findKeys({ limit: 100, now, order: 'expiry' })).slice(0, 2)).toEqual([key(19).id, key(18).id]);

    // Walk forward by cursor, then back.
    const seen: string[] = [];
    let page = await store.findKeys({ limit: 6, now, order: 'description' });
    expect(page.hasPrev).toBe(false);
    for (;;) {
      seen.push(...ids(page));
      if (!page.hasNext) break;
      page = await store.findKeys({ limit: 6, now, order: 'description', startingAfter: page.data[page.data.length - 1].id });
    }
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => key(i).id));
    const back = await store.findKeys({ limit: 6, now, order: 'description', endingBefore: key(12).id });
    expect(ids(back)).toEqual([6, 7, 8, 9, 10, 11].map((i) => key(i).id));
    expect(back).toMatchObject({ hasPrev: true, hasNext: true });
    expect(ids(await store.findKeys({ limit: 3, now, order: 'description', offset: 18 }))).toEqual([key(18).id, key(19).id]);

    // A cursor whose key left the list (revoked while paging active keys) keeps its place.
    const active = await store.findKeys({ limit: 5, now, status: 'active', order: 'description' });
    await store.transact((tx) => tx.putKey({ ...key(5), revokedAt: iso(now) }));
    expect(ids(await store.findKeys({ limit: 2, now, status: 'active', order: 'description', startingAfter: active.data[4].id }))).toEqual([key(6).id, key(7).id]);
    await expect(store.findKeys({ limit: 2, now, startingAfter: 'f'.repeat(24) })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(await store.countActiveKeys('bob', now)).toBe(8); // 10 of bob's, minus 3 and 5 revoked
    expect((await store.keysOf('carol')).length).toBe(10);
    expect(ids({ data: await store.keysByIdPrefix('00000000000000000000000', 100) })).toHaveLength(16);
  });

  it('orders by last use from the aggregates, never used first', async () => {
    const store = await filled(4);
    await store.recordUsage([{ keyId: key(2).id, minute: Math.floor(T0 / 60_000), uses: 3, lastUsed: T0 + 5 }, { keyId: key(0).id, minute: Math.floor(T0 / 60_000), uses: 1, lastUsed: T0 + 9 }], []);
    expect(ids(await store.findKeys({ limit: 10, now: T0, order: 'lastUsed', descending: true }))).toEqual([key(0).id, key(2).id, key(3).id, key(1).id]);
  });

  it('commits a transaction whole or not at all, and reads in it see the state before its writes', async () => {
    const store = await filled(2);
    const before = store.version();
    await expect(
      store.transact(async (tx) => {
        tx.deleteKey(key(0).id);
        expect(await tx.getKey(key(0).id)).toBeDefined();
        throw new KeywardError('INVALID_INPUT', 'no');
      }),
    ).rejects.toBeInstanceOf(KeywardError);
    expect(await store.getKey(key(0).id)).toBeDefined();
    expect(store.version()).toBe(before);
    const mine = key(0, { description: 'changed' });
    await store.transact((tx) => tx.putKey(mine));
    mine.description = 'mutated after commit';
    expect((await store.getKey(key(0).id))!.description).toBe('changed');
  });

  it('finds events newest first by type, key, user and time, with cursors both ways', async () => {
    const store = await filled(10);
    const all = await store.findEvents({ limit: 100 });
    expect(all.data.length).toBe(11);
    expect(all.data[0].keyId).toBe(key(9).id);
    expect((await store.findEvents({ limit: 100, types: ['user.added'] })).data.length).toBe(1);
    expect((await store.findEvents({ limit: 100, excludeTypes: ['user.added'] })).data.length).toBe(10);
    expect((await store.findEvents({ limit: 100, keyId: key(4).id })).data.length).toBe(1);
    expect((await store.findEvents({ limit: 100, since: T0 + 5 })).data.length).toBe(5);
    expect((await store.findEvents({ limit: 100, until: T0 + 2 })).data.length).toBe(4);
    const p1 = await store.findEvents({ limit: 4 });
    expect(p1).toMatchObject({ hasPrev: false, hasNext: true, total: 11 });
    const p2 = await store.findEvents({ limit: 4, startingAfter: p1.data[3].id });
    expect(p2.data.map((e) => e.keyId)).toEqual([5, 4, 3, 2].map((i) => key(i).id));
    const back = await store.findEvents({ limit: 4, endingBefore: p2.data[0].id });
    expect(back.data.map((e) => e.id)).toEqual(p1.data.map((e) => e.id));
    expect(back).toMatchObject({ hasPrev: false, hasNext: true });
    await expect(store.findEvents({ limit: 4, startingAfter: 'nope' })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('sums usage per key per minute, keeps the last 5 distinct addresses, and forgets what is past retention', async () => {
    const store = await filled(2);
    const m = Math.floor(T0 / 60_000);
    const a = key(0).id;
    await store.recordUsage([{ keyId: a, minute: m, uses: 2, lastUsed: T0 + 1, addresses: [{ address: '10.0.0.1', lastSeen: T0 + 1 }] }], []);
    await store.recordUsage(
      [
        { keyId: a, minute: m, uses: 3, lastUsed: T0 + 2, addresses: ['10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.1'].map((address, i) => ({ address, lastSeen: T0 + 10 + i })) },
        { keyId: a, minute: m + 90, uses: 7, lastUsed: T0 + 90 * 60_000, addresses: [{ address: '10.0.0.6', lastSeen: T0 + 90 * 60_000 }] },
      ],
      [newEvent('api-key.used', T0 + 90 * 60_000, 'carol', a, { uses: 10 })],
    );
    expect((await store.usageSince(T0)).map((u) => [u.keyId, u.uses])).toEqual([[a, 12]]);
    expect((await store.usageSince(T0 + 60 * 60_000))[0].uses).toBe(7);
    const named = await store.usageSince(T0, [key(1).id]);
    expect(named).toEqual([{ keyId: key(1).id, uses: 0, lastUsedFrom: [] }]);
    const last = (await store.lastUsedOf([a, key(1).id])).get(a)!;
    expect(last.lastUsed).toBe(T0 + 90 * 60_000);
    expect(last.lastUsedFrom.map((x) => x.address)).toEqual(['10.0.0.6', '10.0.0.1', '10.0.0.5', '10.0.0.4', '10.0.0.3']);
    expect((await store.lastUsedOf([key(1).id])).size).toBe(0);

    await store.removeBefore(T0 + 60 * 60_000);
    expect((await store.usageSince(0))[0].uses).toBe(7);
    const events = await store.findEvents({ limit: 100 });
    expect(events.data.map((e) => e.eventType)).toEqual(['api-key.used']);
  });

  it('says when anything changed: a version that only grows, and the records touched', async () => {
    const store = await filled(2);
    const seen: StoreChange[] = [];
    const off = store.onChange((c) => seen.push(c));
    const v0 = store.version();
    await store.transact((tx) => tx.deleteKey(key(1).id));
    await store.transact(async (tx) => tx.putTenant({ ...(await tx.tenant())!, name: 'renamed' }));
    await store.append([newEvent('api-key.auth-failed', T0, 'anonymous', undefined, {})]);
    await store.transact(() => undefined); // nothing written: no change
    off();
    await store.append([newEvent('api-key.auth-failed', T0, 'anonymous', undefined, {})]);
    expect(seen).toEqual([
      { version: v0 + 1, keyIds: [key(1).id] },
      { version: v0 + 2, tenant: true },
      { version: v0 + 3 },
    ]);
    expect(store.version()).toBe(v0 + 4);
  });

  it('rebuilds from a whole document and writes one back (snapshots, first-format stores)', () => {
    const s = new TenantState();
    s.apply([{ op: 'putTenant', tenant: { id: 't', name: 'n', created: iso(T0), settings: { ...DEFAULT_SETTINGS } } }, { op: 'putKey', key: key(1) }, { op: 'putUser', user: { id: 'bob', licence: true, roles: [], created: iso(T0) } }]);
    const again = TenantState.fromDocument(s.toDocument());
    expect(again.toDocument()).toEqual(s.toDocument());
    expect(again.countActiveKeys('bob', T0)).toBe(1);
  });
});
