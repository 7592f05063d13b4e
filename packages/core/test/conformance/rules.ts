// What every store must answer the same way, in one process: records, finding
// and paging keys, counts, transactions (writes and events together or not at
// all), events by filter with cursors, usage summed, retention, and the
// change signal — including a second handle on the same data, where the
// adapter has one (another server on the same file or database).
import { afterEach, describe, expect, it } from 'vitest';
import { KeywardError } from '../../src/refusal.js';
import type { Store, StoreChange } from '../../src/store/boundary.js';
import { DAY, T0, event, ids, iso, key, tenant, user } from './records.js';

export interface StoreFactory {
  /** A new, empty store of this adapter. */
  create(): Promise<Store>;
  /** A second handle on the same data, as another server would have; omitted when the adapter has none (memory). */
  another?(store: Store): Promise<Store>;
  /**
   * The store may signal a change it cannot name at any moment (PostgreSQL: a
   * late notification of earlier writes, or `all` after its listener
   * reconnects), so its version may grow without a change of this handle's.
   */
  signalsOnItsOwn?: boolean;
}

async function until(what: string, condition: () => boolean | Promise<boolean>, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export function describeStoreConformance(name: string, factory: StoreFactory): void {
  const opened: Store[] = [];
  const open = async () => {
    const s = await factory.create();
    opened.push(s);
    return s;
  };
  const another = async (s: Store) => {
    const o = await factory.another!(s);
    opened.push(o);
    return o;
  };
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close().catch(() => undefined)));
  });

  /** alice (admin), bob, carol and `n` keys (key 3 revoked), each with its generated event. */
  async function filled(n = 20): Promise<Store> {
    const store = await open();
    expect(await store.create({ tenant: tenant(), users: [user('alice', true)], events: [event('user.added', T0, 'alice')] })).toBe(true);
    expect(await store.create({ tenant: { ...tenant(), name: 'other' }, users: [], events: [] })).toBe(false);
    await store.transact(async (tx) => {
      tx.putUser(user('bob'));
      tx.putUser(user('carol'));
      for (let i = 0; i < n; i++) {
        tx.putKey(key(i, i === 3 ? { revokedAt: iso(T0), revokedBy: 'alice' } : {}));
        tx.emit(event('api-key.generated', T0 + i, 'alice', key(i).id));
      }
    });
    return store;
  }

  describe(`store conformance: ${name}`, () => {
    it('keeps records: the tenant, users and keys read back as written, and deletes remove them', async () => {
      const store = await filled(4);
      expect((await store.tenant())!.name).toBe('T');
      expect((await store.listUsers()).map((u) => u.id)).toEqual(['alice', 'bob', 'carol']);
      expect(await store.getUser('bob')).toEqual(user('bob'));
      expect(await store.getKey(key(2).id)).toEqual(key(2));
      await store.transact((tx) => {
        tx.deleteKey(key(2).id);
        tx.deleteUser('carol');
      });
      expect(await store.getKey(key(2).id)).toBeUndefined();
      expect(await store.getUser('carol')).toBeUndefined();
      expect((await store.keysOf('carol')).map((k) => k.id)).toEqual([key(0).id]);
      expect(await store.getKey('f'.repeat(24))).toBeUndefined();
    });

    it('finds keys by owner, status and search, in every order, with keyset cursors and offsets', async () => {
      const store = await filled();
      const now = T0 + 10.5 * 60_000;
      const all = await store.findKeys({ limit: 100, now, order: 'created', descending: true });
      expect(all.total).toBe(20);
      expect(all.data[0].id).toBe(key(19).id);
      expect((await store.findKeys({ limit: 100, now, owner: 'bob' })).total).toBe(10);
      expect((await store.findKeys({ limit: 100, now, createdBy: 'alice' })).total).toBe(20);
      expect(ids(await store.findKeys({ limit: 100, now, status: 'revoked' }))).toEqual([key(3).id]);
      expect((await store.findKeys({ limit: 100, now: T0 + 25.5 * 60_000, status: 'expired' })).total).toBe(15);
      expect(ids(await store.findKeys({ limit: 100, now, search: 'KEY 07' }))).toEqual([key(7).id]);
      expect(ids(await store.findKeys({ limit: 100, now, order: 'expiry' })).slice(0, 2)).toEqual([key(19).id, key(18).id]);

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
    });

    it('counts an owner\'s active keys and finds keys by id prefix', async () => {
      const store = await filled();
      const now = T0 + 10.5 * 60_000;
      expect(await store.countActiveKeys('bob', now)).toBe(9); // 10 of bob's, minus 3 revoked
      expect(await store.countActiveKeys('bob', T0 + 25.5 * 60_000)).toBe(1); // only key 1 has not expired (3 is revoked)
      expect(await store.countActiveKeys('nobody', now)).toBe(0);
      expect((await store.keysOf('carol')).length).toBe(10);
      expect(await store.keysByIdPrefix('00000000000000000000000', 100)).toHaveLength(16);
      expect(await store.keysByIdPrefix('00000000000000000000000', 3)).toHaveLength(3);
    });

    it('orders by last use from the aggregates, never used first', async () => {
      const store = await filled(4);
      const m = Math.floor(T0 / 60_000);
      await store.recordUsage([{ keyId: key(2).id, minute: m, uses: 3, lastUsed: T0 + 5 }, { keyId: key(0).id, minute: m, uses: 1, lastUsed: T0 + 9 }], []);
      expect(ids(await store.findKeys({ limit: 10, now: T0, order: 'lastUsed', descending: true }))).toEqual([key(0).id, key(2).id, key(3).id, key(1).id]);
    });

    it('commits a transaction whole or not at all: a throwing function writes nothing and emits nothing', async () => {
      const store = await filled(2);
      // No change may name the key only the failed transaction put; a store
      // that never signals on its own (factory.signalsOnItsOwn) keeps its version.
      const before = store.version();
      const named: string[] = [];
      const stop = store.onChange((c) => named.push(...(c.keyIds ?? [])));
      const eventsBefore = (await store.findEvents({ limit: 100 })).data.length;
      await expect(
        store.transact(async (tx) => {
          tx.deleteKey(key(0).id);
          tx.putKey(key(7));
          tx.emit(event('api-key.deleted', T0 + 50, 'alice', key(0).id));
          expect(await tx.getKey(key(0).id)).toBeDefined(); // reads see the state before the transaction's writes
          throw new KeywardError('INVALID_INPUT', 'no');
        }),
      ).rejects.toBeInstanceOf(KeywardError);
      expect(await store.getKey(key(0).id)).toBeDefined();
      expect(await store.getKey(key(7).id)).toBeUndefined();
      expect((await store.findEvents({ limit: 100 })).data.length).toBe(eventsBefore);
      stop();
      expect(named).not.toContain(key(7).id);
      if (!factory.signalsOnItsOwn) expect(store.version()).toBe(before);

      // And a transaction that returns commits its writes and its events together.
      const result = await store.transact((tx) => {
        tx.deleteKey(key(0).id);
        tx.emit(event('api-key.deleted', T0 + 60, 'alice', key(0).id));
        return 'done';
      });
      expect(result).toBe('done');
      expect(await store.getKey(key(0).id)).toBeUndefined();
      expect((await store.findEvents({ limit: 1, types: ['api-key.deleted'] })).data[0].keyId).toBe(key(0).id);

      // The caller's objects are copied: changing one after commit changes nothing stored.
      const mine = key(1, { description: 'changed' });
      await store.transact((tx) => tx.putKey(mine));
      mine.description = 'mutated after commit';
      expect((await store.getKey(key(1).id))!.description).toBe('changed');
    });

    it('runs concurrent transactions one after another: none loses another\'s write', async () => {
      const store = await filled(0);
      await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          store.transact(async (tx) => {
            const n = await tx.countActiveKeys('bob', T0);
            tx.putKey(key(100 + i, { owner: 'bob', description: `n=${n}`, expiry: iso(T0 + DAY) }));
          }),
        ),
      );
      const keys = await store.keysOf('bob');
      expect(keys).toHaveLength(30);
      // Each saw every earlier one: the counts are 0..29, each once.
      expect(keys.map((k) => Number(k.description.slice(2))).sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    });

    it('finds events newest first by type, key, user and time, with cursors both ways', async () => {
      const store = await filled(10);
      const all = await store.findEvents({ limit: 100 });
      expect(all.data.length).toBe(11);
      expect(all.data[0].keyId).toBe(key(9).id);
      expect((await store.findEvents({ limit: 100, types: ['user.added'] })).data.length).toBe(1);
      expect((await store.findEvents({ limit: 100, excludeTypes: ['user.added'] })).data.length).toBe(10);
      expect((await store.findEvents({ limit: 100, keyId: key(4).id })).data.length).toBe(1);
      expect((await store.findEvents({ limit: 100, userId: 'alice' })).data.length).toBe(11);
      expect((await store.findEvents({ limit: 100, since: T0 + 5 })).data.length).toBe(5);
      expect((await store.findEvents({ limit: 100, until: T0 + 2 })).data.length).toBe(4);
      const p1 = await store.findEvents({ limit: 4 });
      expect(p1).toMatchObject({ hasPrev: false, hasNext: true });
      const p2 = await store.findEvents({ limit: 4, startingAfter: p1.data[3].id });
      expect(p2.data.map((e) => e.keyId)).toEqual([5, 4, 3, 2].map((i) => key(i).id));
      const back = await store.findEvents({ limit: 4, endingBefore: p2.data[0].id });
      expect(back.data.map((e) => e.id)).toEqual(p1.data.map((e) => e.id));
      expect(back).toMatchObject({ hasPrev: false, hasNext: true });
      await expect(store.findEvents({ limit: 4, startingAfter: 'nope' })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
      // Events that change no record.
      await store.append([event('api-key.auth-failed', T0 + 100, 'anonymous')]);
      expect((await store.findEvents({ limit: 1 })).data[0].eventType).toBe('api-key.auth-failed');
    });

    it('finds the oldest page when asked (still newest first), and the pages newer than it with endingBefore', async () => {
      const store = await filled(10);
      const all = (await store.findEvents({ limit: 100 })).data.map((e) => e.id);
      const oldest = await store.findEvents({ limit: 4, oldestFirst: true });
      expect(oldest.data.map((e) => e.id)).toEqual(all.slice(-4));
      expect(oldest).toMatchObject({ hasPrev: true, hasNext: false });
      const newer = await store.findEvents({ limit: 4, endingBefore: oldest.data[0].id });
      expect(newer.data.map((e) => e.id)).toEqual(all.slice(-8, -4));
      const keyEvents = (await store.findEvents({ limit: 100, excludeTypes: ['user.added'] })).data.map((e) => e.id);
      expect((await store.findEvents({ limit: 2, oldestFirst: true, excludeTypes: ['user.added'] })).data.map((e) => e.id)).toEqual(keyEvents.slice(-2));
      expect(await store.findEvents({ limit: 100, oldestFirst: true })).toMatchObject({ hasPrev: false, hasNext: false });
      // A cursor says where the page is.
      expect((await store.findEvents({ limit: 4, oldestFirst: true, startingAfter: all[0] })).data.map((e) => e.id)).toEqual(all.slice(1, 5));
    });

    it('sums usage per key over every recording, keeps the last 5 distinct addresses, and names unused keys when asked', async () => {
      const store = await filled(2);
      // Recent times: some stores file usage by the time it was flushed.
      const t = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3 * 3_600_000;
      const m = Math.floor(t / 60_000);
      const a = key(0).id;
      await store.recordUsage([{ keyId: a, minute: m, uses: 2, lastUsed: t + 1, addresses: [{ address: '10.0.0.1', lastSeen: t + 1 }] }], []);
      await store.recordUsage(
        [
          { keyId: a, minute: m, uses: 3, lastUsed: t + 2, addresses: ['10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.1'].map((address, i) => ({ address, lastSeen: t + 10 + i })) },
          { keyId: a, minute: m + 90, uses: 7, lastUsed: t + 90 * 60_000, addresses: [{ address: '10.0.0.6', lastSeen: t + 90 * 60_000 }] },
        ],
        [event('api-key.used', t + 90 * 60_000, 'carol', a)],
      );
      expect((await store.usageSince(t)).map((u) => [u.keyId, u.uses])).toEqual([[a, 12]]);
      expect((await store.usageSince(t + 60 * 60_000))[0].uses).toBe(7);
      expect(await store.usageSince(t, [key(1).id])).toEqual([{ keyId: key(1).id, uses: 0, lastUsedFrom: [] }]);
      const last = (await store.lastUsedOf([a, key(1).id])).get(a)!;
      expect(last.lastUsed).toBe(t + 90 * 60_000);
      expect(last.lastUsedFrom.map((x) => x.address)).toEqual(['10.0.0.6', '10.0.0.1', '10.0.0.5', '10.0.0.4', '10.0.0.3']);
      expect((await store.lastUsedOf([key(1).id])).get(key(1).id)?.lastUsed).toBeUndefined(); // never used: absent, or no time
      expect((await store.findEvents({ limit: 1, types: ['api-key.used'] })).data[0].keyId).toBe(a);
    });

    it('removes events of whole days past retention, keeps the rest, and a reader paging through still answers', async () => {
      const store = await open();
      const day0 = Math.floor(T0 / DAY) * DAY;
      const old = [0, 1, 2].map((d) => event('api-key.auth-failed', day0 - (5 - d) * DAY + 3_600_000, 'anonymous'));
      const recent = [event('user.added', T0, 'alice'), event('user.added', T0 + 1, 'alice')];
      await store.create({ tenant: tenant(), users: [user('alice', true)], events: [...old, ...recent] });
      const page = await store.findEvents({ limit: 1 });
      expect(page.data.map((e) => e.id)).toEqual([recent[1].id]);
      await store.removeBefore(day0 - DAY);
      const left = await store.findEvents({ limit: 100 });
      expect(left.data.map((e) => e.id)).toEqual([recent[1].id, recent[0].id]);
      // A reader's cursor from before the removal still pages on, through what is left.
      const next = await store.findEvents({ limit: 5, startingAfter: page.data[0].id });
      expect(next.data.map((e) => e.id)).toEqual([recent[0].id]);
      expect(next.hasNext).toBe(false);
    });

    it('says when anything changed: a version that only grows, and the records touched', async () => {
      const store = await filled(2);
      const seen: StoreChange[] = [];
      const off = store.onChange((c) => seen.push(c));
      const v0 = store.version();
      await store.transact((tx) => tx.deleteKey(key(1).id));
      await store.transact(async (tx) => tx.putTenant({ ...(await tx.tenant())!, name: 'renamed' }));
      await store.transact(() => undefined); // nothing written: no change
      off();
      await store.transact((tx) => tx.deleteKey(key(0).id));
      expect(seen.slice(0, 2)).toEqual([
        { version: seen[0].version, keyIds: [key(1).id] },
        { version: seen[1].version, tenant: true },
      ]);
      expect(seen).toHaveLength(2);
      expect(seen[0].version).toBeGreaterThan(v0);
      expect(seen[1].version).toBeGreaterThan(seen[0].version);
      expect(store.version()).toBeGreaterThan(seen[1].version);
    });

    it('refuses a transaction on a store that has no tenant yet, with UNAVAILABLE', async () => {
      const store = await open();
      await expect(store.transact((tx) => tx.putUser(user('x')))).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    });

    it('refuses every read and write after close() with UNAVAILABLE, and changes nothing', async () => {
      const store = await filled(2);
      const heard: StoreChange[] = [];
      store.onChange((c) => heard.push(c));
      await store.close();
      const version = store.version();
      const m = Math.floor(T0 / 60_000);
      const asked: Record<string, () => Promise<unknown>> = {
        tenant: () => store.tenant(),
        getUser: () => store.getUser('bob'),
        listUsers: () => store.listUsers(),
        getKey: () => store.getKey(key(0).id),
        keysByIdPrefix: () => store.keysByIdPrefix('0', 10),
        keysOf: () => store.keysOf('bob'),
        countActiveKeys: () => store.countActiveKeys('bob', T0),
        findKeys: () => store.findKeys({ limit: 10, now: T0 }),
        create: () => store.create({ tenant: tenant(), users: [], events: [] }),
        transact: () => store.transact((tx) => tx.putKey(key(9))),
        append: () => store.append([event('api-key.auth-failed', T0 + 100, 'anonymous')]),
        findEvents: () => store.findEvents({ limit: 10 }),
        recordUsage: () => store.recordUsage([{ keyId: key(0).id, minute: m, uses: 1, lastUsed: T0 }], []),
        usageSince: () => store.usageSince(T0),
        lastUsedOf: () => store.lastUsedOf([key(0).id]),
        removeBefore: () => store.removeBefore(T0),
      };
      for (const [name, ask] of Object.entries(asked)) {
        const refusal = await ask().then(
          (answer) => ({ answered: name, answer }),
          (e: unknown) => e,
        );
        expect(refusal, name).toBeInstanceOf(KeywardError);
        expect(refusal, name).toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining('closed') });
      }
      expect(store.version()).toBe(version);
      expect(heard).toEqual([]);
      await store.close(); // closing again is harmless
    });

    it.skipIf(!factory.another)('shows a change made through one handle to another, with onChange, within 100 ms', async () => {
      const a = await filled(2);
      const b = await another(a);
      expect(await b.getKey(key(0).id)).toBeDefined();
      const seen: StoreChange[] = [];
      b.onChange((c) => seen.push(c));
      const v = b.version();
      const t = performance.now();
      await a.transact((tx) => tx.putKey({ ...key(0), revokedAt: iso(T0), revokedBy: 'alice' }));
      await until('the other handle to see the revoke', () => seen.length > 0, 1000);
      const latency = performance.now() - t;
      expect(latency).toBeLessThan(1000); // the documented contract is 100 ms for files, 1 s for PostgreSQL; measured generously here
      expect(b.version()).toBeGreaterThan(v);
      expect((await b.getKey(key(0).id))!.revokedAt).toBe(iso(T0));
      // Both handles write; neither loses the other's.
      await Promise.all([a.transact((tx) => tx.putKey(key(40))), b.transact((tx) => tx.putKey(key(41)))]);
      expect(await a.getKey(key(41).id)).toBeDefined();
      expect(await b.getKey(key(40).id)).toBeDefined();
    });
  });
}
