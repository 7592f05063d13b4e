// The PostgreSQL adapter on a real PostgreSQL server (the `postgres` vitest
// project starts one): each method of the store boundary, the rules that must
// hold across servers (several stores on one database stand for several
// servers), the change signal, and faults.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Socket, connect, createServer } from 'node:net';
import pg from 'pg';
import type { ApiKey, KeywardEvent, Tenant, User } from '../../src/domain.js';
import { DEFAULT_SETTINGS } from '../../src/domain.js';
import type { StoreChange } from '../../src/store/boundary.js';
import { createPostgresStore, type PostgresStore } from '../../src/store/postgres/store.js';
import { SCHEMA_VERSION } from '../../src/store/postgres/migrations.js';
import { LISTENER_NAME } from '../../src/store/postgres/changes.js';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/postgres.js';
import { freePort } from '../../../../test/support/free-port.js';
import { timedHere } from '../child.js';

const T0 = Date.parse('2026-03-01T12:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

function tenant(): Tenant {
  return { id: 't1', name: 'acme', created: iso(T0), settings: { ...DEFAULT_SETTINGS, apiKeysEnabled: true } };
}
function user(id: string, admin = false): User {
  return { id, licence: true, roles: admin ? ['TenantAdmin', 'Developer'] : ['Developer'], created: iso(T0) };
}
let n = 0;
function key(owner: string, over: Partial<ApiKey> = {}): ApiKey {
  n++;
  const id = (n.toString(16) + 'a'.repeat(24)).slice(0, 24);
  return { id, description: `key ${n}`, owner, createdBy: owner, created: iso(T0 + n * 1000), lastUpdated: iso(T0 + n * 1000), expiry: iso(T0 + 86_400_000), hash: 'h'.repeat(64), ...over };
}
function event(type: KeywardEvent['eventType'], at: number, userId: string, keyId?: string): KeywardEvent {
  n++;
  return { id: `${at.toString(36)}${n.toString(16).padStart(10, '0')}`, eventType: type, eventTime: iso(at), userId, ...(keyId ? { keyId } : {}), data: { n } };
}

/** A test body run as a timed child runs (child.ts timedHere): for a test whose listening server is its own process. */
const timed = (body: () => Promise<void>) => () => timedHere(body);

let db: TestDatabase;
const stores: PostgresStore[] = [];
/** Another server's store on `url`, listening, and every change it has heard since it was. */
async function listeningOther(url: string): Promise<{ other: PostgresStore; heard: StoreChange[] }> {
  const other = open(url);
  const heard: StoreChange[] = [];
  other.onChange((c) => heard.push(c));
  await expect.poll(() => other.listening, { timeout: 5000 }).toBe(true);
  // Until its connection was up, it heard `all` at every heartbeat (changes.ts start), as it must:
  // on a loaded machine, connecting took longer than one (300 ms), and a test that asked for no
  // `all` after it was listening failed on that one ({ all: true, version: 1 }: 1 run in 10 of the
  // last two tests of this file, and 1 in 8 once they ran timed).
  heard.length = 0;
  return { other, heard };
}

function open(url = db.url): PostgresStore {
  const s = createPostgresStore(url);
  stores.push(s);
  return s;
}

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()));
  await db.drop();
});

async function seeded(): Promise<{ store: PostgresStore; url: string }> {
  const d = await createTestDatabase();
  afterAll(() => d.drop());
  const store = open(d.url);
  expect(await store.create({ tenant: tenant(), users: [user('alice', true), user('bob')], events: [event('user.added', T0, 'alice')] })).toBe(true);
  return { store, url: d.url };
}

/**
 * A connection that writes keys behind every server's back: no NOTIFY, and
 * with triggers off, not counted as a change either (change-count.ts would
 * drop every cache for it) — what a cache keeps does not show such a key.
 */
async function behindServersBacks(url: string): Promise<{ sneak(k: ApiKey): Promise<unknown>; end(): Promise<void> }> {
  const c = new pg.Client(url);
  await c.connect();
  await c.query(`SET session_replication_role = replica`);
  return {
    sneak: (k) =>
      c.query(`INSERT INTO keyward.keys (id, owner, created_by, description, created, expiry, record) VALUES ($1, $2, $2, $3, $4, $5, $6)`, [k.id, k.owner, k.description, k.created, k.expiry, JSON.stringify(k)]),
    end: () => c.end(),
  };
}

describe('schema', () => {
  it('three servers starting at once migrate once, without an error', async () => {
    const d = await createTestDatabase();
    afterAll(() => d.drop());
    const three = [open(d.url), open(d.url), open(d.url)];
    const made = await Promise.all(three.map((s) => s.create({ tenant: tenant(), users: [user('alice', true)], events: [] })));
    expect(made.filter(Boolean)).toHaveLength(1);
    const c = new pg.Client(d.url);
    await c.connect();
    const v = await c.query('SELECT version FROM keyward.migrations ORDER BY version');
    await c.end();
    expect(v.rows.map((r) => r.version)).toEqual(Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1));
    for (const s of three) expect((await s.tenant())?.name).toBe('acme');
  });

  it('before init, reads find nothing and writes say to run init; nothing is created by reading', async () => {
    const d = await createTestDatabase();
    afterAll(() => d.drop());
    const s = open(d.url);
    expect(await s.tenant()).toBeUndefined();
    expect(await s.listUsers()).toEqual([]);
    expect((await s.findKeys({ limit: 10, now: T0 })).total).toBe(0);
    await expect(s.transact(() => 1)).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringMatching(/keyward init/) });
    const c = new pg.Client(d.url);
    await c.connect();
    const r = await c.query(`SELECT to_regclass('keyward.migrations') AS t`);
    await c.end();
    expect(r.rows[0].t).toBeNull();
  });

  it('a read asked as the store closes is refused with UNAVAILABLE, not the driver\'s own words', async () => {
    const { url } = await seeded();
    const store = createPostgresStore(url);
    expect((await store.tenant())?.name).toBe(tenant().name);
    // Not yet in the record cache: it goes to the pool, which close() ends.
    const asked = store.findKeys({ limit: 5, now: T0 });
    await store.close();
    // Answered (the pool ends only once its queries are done), or refused as UNAVAILABLE — never the driver's words.
    const refusal = await asked.then(() => undefined, (e: { code?: string; message?: string }) => e);
    if (refusal !== undefined) expect(refusal).toMatchObject({ code: 'UNAVAILABLE', message: expect.not.stringMatching(/Cannot use a pool/) });
    await expect(store.findKeys({ limit: 5, now: T0 })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });
  it('location never carries the password', () => {
    const s = open('postgres://kw:s3cret-pass@127.0.0.1:1/db');
    expect(s.location).toBe('postgres://kw@127.0.0.1:1/db');
    expect(s.location).not.toContain('s3cret');
  });
});

describe('records and transactions', () => {
  it('reads see the state before the transaction’s own writes; writes and events commit together', async () => {
    const { store } = await seeded();
    const k = key('bob');
    const seen = await store.transact(async (tx) => {
      tx.putKey(k);
      tx.emit(event('api-key.generated', T0, 'bob', k.id));
      return tx.getKey(k.id);
    });
    expect(seen).toBeUndefined();
    expect(await store.getKey(k.id)).toEqual(k);
    const ev = await store.findEvents({ limit: 10, keyId: k.id });
    expect(ev.data.map((e) => e.eventType)).toEqual(['api-key.generated']);
  });

  it('a throw inside the transaction writes nothing, events included', async () => {
    const { store } = await seeded();
    const k = key('bob');
    await expect(
      store.transact((tx) => {
        tx.putKey(k);
        tx.emit(event('api-key.generated', T0, 'bob', k.id));
        throw new Error('refused');
      }),
    ).rejects.toThrow('refused');
    expect(await store.getKey(k.id)).toBeUndefined();
    expect((await store.findEvents({ limit: 10, keyId: k.id })).data).toEqual([]);
  });

  it('users, tenant, deletes, prefixes, an owner’s keys and the active count', async () => {
    const { store } = await seeded();
    const active = key('bob');
    const revoked = key('bob', { revokedAt: iso(T0), revokedBy: 'alice' });
    const expired = key('bob', { expiry: iso(T0 - 1) });
    const other = key('carol');
    await store.transact((tx) => {
      for (const k of [active, revoked, expired, other]) tx.putKey(k);
      tx.putUser(user('carol'));
      tx.putTenant({ ...tenant(), name: 'renamed' });
    });
    expect((await store.tenant())?.name).toBe('renamed');
    expect((await store.listUsers()).map((u) => u.id)).toEqual(['alice', 'bob', 'carol']);
    expect(await store.countActiveKeys('bob', T0)).toBe(1);
    expect((await store.keysOf('bob')).map((k) => k.id).sort()).toEqual([active.id, revoked.id, expired.id].sort());
    expect((await store.keysByIdPrefix(other.id.slice(0, 3), 5)).map((k) => k.id)).toContain(other.id);
    expect(await store.keysByIdPrefix('%', 5)).toEqual([]);
    await store.transact((tx) => {
      tx.deleteKey(other.id);
      tx.deleteUser('carol');
    });
    expect(await store.getKey(other.id)).toBeUndefined();
    expect(await store.getUser('carol')).toBeUndefined();
  });

  it('writes apply in the order they were made, the same key twice and deletes between puts included', async () => {
    const { store } = await seeded();
    const a = key('bob');
    const b = key('bob');
    await store.transact((tx) => {
      tx.putKey(a);
      tx.putKey(b);
      tx.putKey({ ...a, description: 'second put wins' });
      tx.deleteKey(b.id);
      tx.putKey({ ...b, description: 'back again' });
    });
    expect((await store.getKey(a.id))?.description).toBe('second put wins');
    expect((await store.getKey(b.id))?.description).toBe('back again');
  });

  it('the key limit holds under concurrent creates through different servers (lockUser)', async () => {
    const { url } = await seeded();
    const servers = [open(url), open(url), open(url)];
    const limit = 5;
    const attempts = Array.from({ length: 24 }, (_, i) =>
      servers[i % 3].transact(async (tx) => {
        await tx.lockUser('bob');
        if ((await tx.countActiveKeys('bob', T0)) >= limit) return false;
        tx.putKey(key('bob'));
        return true;
      }),
    );
    const made = await Promise.all(attempts);
    expect(made.filter(Boolean)).toHaveLength(limit);
    expect(await servers[0].countActiveKeys('bob', T0)).toBe(limit);
  });

  it('the key limit holds under concurrent creates through one server, counting without lockUser', async () => {
    const { store } = await seeded();
    const limit = 4;
    const made = await Promise.all(
      Array.from({ length: 12 }, () =>
        store.transact(async (tx) => {
          if ((await tx.countActiveKeys('bob', T0)) >= limit) return false;
          tx.putKey(key('bob'));
          return true;
        }),
      ),
    );
    expect(made.filter(Boolean)).toHaveLength(limit);
    expect(await store.countActiveKeys('bob', T0)).toBe(limit);
  });

  it('transactions of one server run side by side: one waiting inside does not hold up another on other records', async () => {
    const { store } = await seeded();
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const a = key('alice');
    const b = key('bob');
    const first = store.transact(async (tx) => {
      await tx.getUser('alice');
      await gate;
      tx.putKey(a);
    });
    // Committed while the first is still open.
    await store.transact(async (tx) => {
      await tx.getUser('bob');
      tx.putKey(b);
    });
    expect(await store.getKey(b.id)).toEqual(b);
    expect(await store.getKey(a.id)).toBeUndefined();
    open();
    await first;
    expect(await store.getKey(a.id)).toEqual(a);
  });

  it('a statement the database refuses halfway through the pipelined writes commits nothing, announces nothing, and the store goes on', async () => {
    const { store, url } = await seeded();
    const { heard } = await listeningOther(url);
    const taken = event('api-key.generated', T0, 'bob');
    await store.append([taken]);
    const k = key('bob');
    // The key's upsert is sent, then the events' insert fails on the duplicate id, then COMMIT: nothing may stay.
    const refused = await store
      .transact((tx) => {
        tx.putKey(k);
        tx.emit(taken);
      })
      .then(
        () => undefined,
        (e: unknown) => e as { code?: string },
      );
    expect(refused?.code).toBe('23505');
    expect(await store.getKey(k.id)).toBeUndefined();
    expect((await store.findEvents({ limit: 10, keyId: k.id })).data).toEqual([]);
    const next = key('bob');
    await store.transact((tx) => tx.putKey(next));
    expect(await store.getKey(next.id)).toEqual(next);
    // Its COMMIT rolled back, so its NOTIFY was not sent (one saying "counted" would stand in for a lost change):
    // the next change's notification comes, and none before it named k.
    await expect.poll(() => heard.some((c) => c.keyIds?.includes(next.id)), { timeout: 1000, interval: 10 }).toBe(true);
    expect(heard.filter((c) => c.keyIds?.includes(k.id) || c.all)).toEqual([]);
  });
});

describe('findKeys', () => {
  let store: PostgresStore;
  const keys: ApiKey[] = [];
  beforeAll(async () => {
    ({ store } = await seeded());
    const descriptions = ['Zeta', 'alpha', 'Beta', 'beta', 'gamma 50%', 'Écoles', 'delta', 'epsilon'];
    descriptions.forEach((d, i) => {
      const owner = i % 2 ? 'bob' : 'alice';
      keys.push(key(owner, { description: d, createdBy: 'alice', ...(i === 3 ? { revokedAt: iso(T0) } : {}), ...(i === 5 ? { expiry: iso(T0 - 1000) } : {}) }));
    });
    await store.transact((tx) => keys.forEach((k) => tx.putKey(k)));
  });

  const ids = (ks: ApiKey[]) => ks.map((k) => k.id);

  it('by creation, newest first when descending, with total and both ends', async () => {
    expect(ids((await store.findKeys({ limit: 100, now: T0 })).data)).toEqual(ids(keys));
    const p = await store.findKeys({ limit: 3, descending: true, now: T0 });
    expect(ids(p.data)).toEqual(ids([...keys].reverse().slice(0, 3)));
    expect(p).toMatchObject({ total: 8, hasNext: true, hasPrev: false });
  });

  it('keyset pages walk every order forwards and backwards without a gap or a repeat', async () => {
    for (const order of ['created', 'description', 'status', 'sub', 'createdByUser', 'expiry', 'lastUsed'] as const) {
      for (const descending of [false, true]) {
        const all = (await store.findKeys({ limit: 100, order, descending, now: T0 })).data;
        expect(all).toHaveLength(8);
        const walked: ApiKey[] = [];
        let page = await store.findKeys({ limit: 3, order, descending, now: T0 });
        walked.push(...page.data);
        while (page.hasNext) {
          page = await store.findKeys({ limit: 3, order, descending, now: T0, startingAfter: page.data[page.data.length - 1].id });
          expect(page.hasPrev).toBe(true);
          walked.push(...page.data);
        }
        expect(ids(walked)).toEqual(ids(all));
        const back = await store.findKeys({ limit: 3, order, descending, now: T0, endingBefore: all[5].id });
        expect(ids(back.data)).toEqual(ids(all.slice(2, 5)));
        expect(back).toMatchObject({ hasNext: true, hasPrev: true });
        const off = await store.findKeys({ limit: 2, order, descending, now: T0, offset: 6 });
        expect(ids(off.data)).toEqual(ids(all.slice(6)));
        expect(off).toMatchObject({ hasNext: false, hasPrev: true });
      }
    }
  });

  it('orders by case-folded description, then newest first', async () => {
    const p = await store.findKeys({ limit: 100, order: 'description', now: T0 });
    expect(p.data.map((k) => k.description)).toEqual(['alpha', 'beta', 'Beta', 'delta', 'epsilon', 'gamma 50%', 'Zeta', 'Écoles']);
  });

  it('status at `now` (revoked wins over expired), owner, creator and search filters', async () => {
    expect((await store.findKeys({ limit: 100, status: 'revoked', now: T0 })).data.map((k) => k.description)).toEqual(['beta']);
    expect((await store.findKeys({ limit: 100, status: 'expired', now: T0 })).data.map((k) => k.description)).toEqual(['Écoles']);
    expect((await store.findKeys({ limit: 100, status: 'active', now: T0 })).total).toBe(6);
    // Everything has expired a day later, but revoked stays revoked.
    expect((await store.findKeys({ limit: 100, status: 'expired', now: T0 + 2 * 86_400_000 })).total).toBe(7);
    expect((await store.findKeys({ limit: 100, owner: 'bob', now: T0 })).total).toBe(4);
    expect((await store.findKeys({ limit: 100, createdBy: 'bob', now: T0 })).total).toBe(0);
    expect((await store.findKeys({ limit: 100, search: 'BETA', now: T0 })).total).toBe(2);
    expect((await store.findKeys({ limit: 100, search: 'écol', now: T0 })).total).toBe(1);
    // LIKE's wildcards are searched for as text.
    expect((await store.findKeys({ limit: 100, search: '50%', now: T0 })).data.map((k) => k.description)).toEqual(['gamma 50%']);
    expect((await store.findKeys({ limit: 100, search: '_', now: T0 })).total).toBe(0);
    expect((await store.findKeys({ limit: 100, search: keys[0].id.slice(0, 6), now: T0 })).data.map((k) => k.id)).toContain(keys[0].id);
    expect((await store.findKeys({ limit: 100, search: 'bo', now: T0 })).total).toBe(4);
  });

  it('a cursor is placed by its key’s values even when the key left the list; an id of no key is refused', async () => {
    await expect(store.findKeys({ limit: 3, now: T0, startingAfter: 'f'.repeat(24) })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(store.findKeys({ limit: 3, now: T0, offset: -1 })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    // keys[2] is alice's; bob's list by creation continues with the keys made after it.
    const p = await store.findKeys({ limit: 10, now: T0, owner: 'bob', startingAfter: keys[2].id });
    expect(ids(p.data)).toEqual(ids([keys[3], keys[5], keys[7]]));
    expect(p).toMatchObject({ hasPrev: true, hasNext: false, total: 4 });
    const first = await store.findKeys({ limit: 10, now: T0, owner: 'bob', startingAfter: keys[0].id });
    expect(first).toMatchObject({ hasPrev: false, total: 4 });
    const before = await store.findKeys({ limit: 10, now: T0, owner: 'bob', endingBefore: keys[6].id });
    expect(ids(before.data)).toEqual(ids([keys[1], keys[3], keys[5]]));
    expect(before).toMatchObject({ hasPrev: false, hasNext: true });
  });
});

describe('events and usage', () => {
  it('events newest first in append order, filtered, with cursors both ways, and removed by retention', async () => {
    const { store } = await seeded();
    const evs = Array.from({ length: 7 }, (_, i) => event(i % 2 ? 'api-key.used' : 'api-key.auth-failed', T0 + i * 60_000, i % 3 ? 'bob' : 'alice', i % 2 ? 'k1' : undefined));
    await store.append(evs.slice(0, 4));
    await store.append(evs.slice(4));
    const all = (await store.findEvents({ limit: 100 })).data;
    expect(all.map((e) => e.id)).toEqual([...evs].reverse().map((e) => e.id).concat(all[all.length - 1].id));
    expect(all[0]).toEqual(evs[6]);
    const used = await store.findEvents({ limit: 2, types: ['api-key.used'] });
    expect(used.data.map((e) => e.id)).toEqual([evs[5].id, evs[3].id]);
    expect(used.hasNext).toBe(true);
    const next = await store.findEvents({ limit: 2, types: ['api-key.used'], startingAfter: evs[3].id });
    expect(next.data.map((e) => e.id)).toEqual([evs[1].id]);
    expect(next).toMatchObject({ hasNext: false, hasPrev: true });
    const prev = await store.findEvents({ limit: 5, types: ['api-key.used'], endingBefore: evs[1].id });
    expect(prev.data.map((e) => e.id)).toEqual([evs[5].id, evs[3].id]);
    expect((await store.findEvents({ limit: 100, excludeTypes: ['api-key.used', 'user.added'] })).data).toHaveLength(4);
    expect((await store.findEvents({ limit: 100, userId: 'alice', keyId: 'k1' })).data.map((e) => e.id)).toEqual([evs[3].id]);
    expect((await store.findEvents({ limit: 100, since: T0 + 2 * 60_000, until: T0 + 4 * 60_000 })).data).toHaveLength(3);
    await store.removeBefore(T0 + 3 * 60_000);
    expect((await store.findEvents({ limit: 100 })).data.map((e) => e.id)).toEqual([evs[6].id, evs[5].id, evs[4].id, evs[3].id]);
  });

  it('usage from several servers is summed; last use and the newest five addresses; retention drops old minutes', async () => {
    const { store, url } = await seeded();
    const other = open(url);
    const m = Math.floor(T0 / 60_000);
    await store.recordUsage([{ keyId: 'k1', minute: m, uses: 3, lastUsed: T0 + 10, addresses: [{ address: '10.0.0.1', lastSeen: T0 + 10 }] }], [event('api-key.used', T0, 'bob', 'k1')]);
    await other.recordUsage(
      [
        { keyId: 'k1', minute: m, uses: 4, lastUsed: T0 + 20, addresses: [{ address: '10.0.0.2', lastSeen: T0 + 20 }] },
        { keyId: 'k1', minute: m + 1, uses: 1, lastUsed: T0 + 60_001, addresses: ['a', 'b', 'c', 'd', 'e'].map((a, i) => ({ address: a, lastSeen: T0 + 60_000 + i })) },
        { keyId: 'k2', minute: m - 10, uses: 2, lastUsed: T0 - 600_000 },
      ],
      [],
    );
    await store.recordUsage([{ keyId: 'k1', minute: m, uses: 1, lastUsed: T0 + 5 }], []);
    const since = await store.usageSince(T0);
    expect(since).toEqual([{ keyId: 'k1', uses: 9, lastUsed: T0 + 60_001, lastUsedFrom: ['e', 'd', 'c', 'b', 'a'].map((a, i) => ({ address: a, lastSeen: T0 + 60_004 - i })) }]);
    const named = await store.usageSince(T0, ['k2', 'k3', 'k1']);
    expect(named.map((u) => [u.keyId, u.uses, u.lastUsed])).toEqual([
      ['k2', 0, undefined],
      ['k3', 0, undefined],
      ['k1', 9, T0 + 60_001],
    ]);
    expect((await store.usageSince(T0 - 3_600_000, ['k2']))[0]).toEqual({ keyId: 'k2', uses: 2, lastUsed: T0 - 600_000, lastUsedFrom: [] });
    const last = await store.lastUsedOf(['k1', 'k2', 'k3']);
    expect([...last.keys()].sort()).toEqual(['k1', 'k2']);
    expect(last.get('k1')).toMatchObject({ lastUsed: T0 + 60_001 });
    expect(last.get('k1')?.lastUsedFrom.map((a) => a.address)).toEqual(['e', 'd', 'c', 'b', 'a']);
    expect((await store.findEvents({ limit: 10, types: ['api-key.used'] })).data).toHaveLength(1);
    await store.removeBefore(T0);
    expect((await store.usageSince(0)).map((u) => [u.keyId, u.uses])).toEqual([['k1', 9]]);
    // The last use and the addresses outlive the minutes retention removed.
    expect((await store.lastUsedOf(['k2'])).get('k2')?.lastUsed).toBe(T0 - 600_000);
    expect((await store.lastUsedOf(['k1'])).get('k1')?.lastUsedFrom).toHaveLength(5);
  });
});

describe('change signal', () => {
  it('a change through one server reaches the others’ listeners, naming its keys; version only grows', async () => {
    const { store, url } = await seeded();
    const { other, heard } = await listeningOther(url);
    const v0 = other.version();
    const k = key('bob');
    const own: StoreChange[] = [];
    store.onChange((c) => own.push(c));
    await store.transact((tx) => tx.putKey(k));
    expect(own.some((c) => c.keyIds?.includes(k.id))).toBe(true);
    await store.transact((tx) => tx.putUser(user('dora')));
    await expect.poll(() => heard.some((c) => c.userIds?.includes('dora')), { timeout: 1000 }).toBe(true);
    await expect.poll(() => heard.some((c) => c.keyIds?.includes(k.id)), { timeout: 1000 }).toBe(true);
    expect(other.version()).toBeGreaterThan(v0);
  });

  it('a listening server keeps the tenant and users it read, and reads them again once another server changes them', async () => {
    const { store, url } = await seeded();
    const { other } = await listeningOther(url);
    expect((await other.tenant())?.name).toBe('acme');
    expect((await other.getUser('bob'))?.licence).toBe(true);
    // A cached record is handed out as it is (the same object each time, as the JSON store does), and frozen:
    // a caller changing it throws, and nothing cached changes.
    const given = (await other.tenant())!;
    expect(await other.tenant()).toBe(given);
    expect(() => {
      given.settings.maxKeysPerUser = 999;
    }).toThrow(TypeError);
    expect(() => (given as { name: string }).name = 'x').toThrow(TypeError);
    const bob = (await other.getUser('bob'))!;
    expect(() => bob.roles.push('TenantAdmin')).toThrow(TypeError);
    expect((await other.tenant())?.settings.maxKeysPerUser).toBe(tenant().settings.maxKeysPerUser);
    expect((await other.getUser('bob'))?.roles).toEqual(['Developer']);
    // The read that fills the cache hands out a copy of its own; the ones after, the cached list.
    await other.listUsers();
    const everyone = await other.listUsers();
    expect(() => {
      everyone[0].roles.length = 0;
    }).toThrow(TypeError);
    expect((await other.listUsers())[0].roles).toEqual(['TenantAdmin', 'Developer']);
    const soon = key('bob', { expiry: iso(T0 + 60_000) });
    await store.transact((tx) => tx.putKey(soon));
    await expect.poll(() => other.countActiveKeys('bob', T0), { timeout: 1000, interval: 10 }).toBe(1);
    // A cached count holds only until the first of those keys expires.
    expect(await other.countActiveKeys('bob', T0 + 60_000)).toBe(0);
    await store.transact((tx) => tx.putKey(key('bob')));
    await expect.poll(() => other.countActiveKeys('bob', T0), { timeout: 1000, interval: 10 }).toBe(2);
    const at = Date.now();
    await store.transact(async (tx) => {
      tx.putTenant({ ...(await tx.tenant())!, name: 'renamed' });
      tx.putUser({ ...(await tx.getUser('bob'))!, licence: false });
    });
    await expect.poll(async () => (await other.tenant())?.name, { timeout: 1000, interval: 10 }).toBe('renamed');
    await expect.poll(async () => (await other.getUser('bob'))?.licence, { timeout: 1000, interval: 10 }).toBe(false);
    expect((await other.listUsers()).find((u) => u.id === 'bob')?.licence).toBe(false);
    expect(Date.now() - at).toBeLessThan(1000);
    // What a caller is handed cannot be changed.
    const renamed = (await other.tenant())!;
    expect(() => (renamed.name = 'scribbled')).toThrow(TypeError);
    expect((await other.tenant())?.name).toBe('renamed');
  });

  it('reads the cache answers are answered at the end of the event loop’s turn, all of that turn’s together', async () => {
    const { store } = await seeded();
    store.onChange(() => undefined);
    await expect.poll(() => store.listening, { timeout: 5000 }).toBe(true);
    await Promise.all([store.tenant(), store.getUser('bob'), store.countActiveKeys('bob', T0)]);
    // All three cached now. Answered each at once, a server writes one answer, wakes its client, and so
    // on (~69 against ~41 µs of server CPU per GET /users/me); at the turn's end, in one burst.
    const order: string[] = [];
    setImmediate(() => order.push('queued before'));
    const asked = [store.tenant().then(() => order.push('tenant')), store.getUser('bob').then(() => order.push('bob'))];
    setImmediate(() => order.push('queued between'));
    asked.push(store.countActiveKeys('bob', T0).then(() => order.push('count')));
    await Promise.all(asked);
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual(['queued before', 'tenant', 'bob', 'count', 'queued between']);
  });

  it('a server keeps each owner’s active count until another server changes that owner’s keys (any owner’s when it cannot say whose)', async () => {
    const { store, url } = await seeded();
    const { other } = await listeningOther(url);
    expect(await other.countActiveKeys('bob', T0)).toBe(0);
    expect(await other.countActiveKeys('alice', T0)).toBe(0);
    // A key written behind every server's back: a server that kept its count does not see it.
    const hidden = await behindServersBacks(url);
    await hidden.sneak(key('bob'));
    expect(await other.countActiveKeys('bob', T0)).toBe(0);
    // Another server changes alice's keys: alice's count is read again, bob's is kept.
    await store.transact((tx) => tx.putKey(key('alice')));
    await expect.poll(() => other.countActiveKeys('alice', T0), { timeout: 1000, interval: 10 }).toBe(1);
    expect(await other.countActiveKeys('bob', T0)).toBe(0);
    // Bob's keys created, revoked and deleted through another server: each within a second.
    const mine = key('bob');
    await store.transact((tx) => tx.putKey(mine));
    await expect.poll(() => other.countActiveKeys('bob', T0), { timeout: 1000, interval: 10 }).toBe(2);
    await store.transact(async (tx) => tx.putKey({ ...(await tx.getKey(mine.id))!, revokedAt: iso(T0) }));
    await expect.poll(() => other.countActiveKeys('bob', T0), { timeout: 1000, interval: 10 }).toBe(1);
    await store.transact(async (tx) => {
      const active = (await tx.keysOf('bob')).find((k) => !k.revokedAt)!;
      tx.deleteKey(active.id);
    });
    await expect.poll(() => other.countActiveKeys('bob', T0), { timeout: 1000, interval: 10 }).toBe(0);
    // A key deleted unread: whose it was is unknown, so every owner's count is read again.
    await hidden.sneak(key('alice'));
    expect(await other.countActiveKeys('alice', T0)).toBe(1);
    await store.transact((tx) => tx.deleteKey(mine.id));
    await expect.poll(() => other.countActiveKeys('alice', T0), { timeout: 1000, interval: 10 }).toBe(2);
    await hidden.end();
  });

  it('a server keeps pages of keys until another server changes keys on them (everyone’s pages: any key); pages that hang on the time are read every time', async () => {
    const { store, url } = await seeded();
    const { other } = await listeningOther(url);
    // Oldest first (the default order).
    const ids = (p: { data: ApiKey[] }) => p.data.map((k) => k.id);
    const bobs = { owner: 'bob', limit: 10, now: T0 };
    const everyone = { limit: 10, now: T0 };
    const first = key('bob');
    await store.transact((tx) => tx.putKey(first));
    await expect.poll(async () => ids(await other.findKeys(bobs)), { timeout: 1000, interval: 10 }).toEqual([first.id]);
    expect((await other.findKeys(bobs)).total).toBe(1);
    expect(ids(await other.findKeys(everyone))).toEqual([first.id]);
    // Written behind every server's back: a kept page does not show it.
    const hidden = await behindServersBacks(url);
    const sneaked = key('bob');
    await hidden.sneak(sneaked);
    expect(ids(await other.findKeys(bobs))).toEqual([first.id]);
    // A status filter hangs on the time: never kept, so it shows what the database holds.
    expect(ids(await other.findKeys({ ...bobs, status: 'active' }))).toEqual([first.id, sneaked.id]);
    // Alice's keys change elsewhere: everyone's page is read again, bob's is kept.
    const alices = key('alice');
    await store.transact((tx) => tx.putKey(alices));
    await expect.poll(async () => ids(await other.findKeys(everyone)), { timeout: 1000, interval: 10 }).toEqual([first.id, sneaked.id, alices.id]);
    expect(ids(await other.findKeys(bobs))).toEqual([first.id]);
    // Bob's key renamed, revoked and deleted through another server: his page follows within a second.
    await store.transact(async (tx) => tx.putKey({ ...(await tx.getKey(first.id))!, description: 'renamed' }));
    await expect.poll(async () => (await other.findKeys(bobs)).data.map((k) => k.description), { timeout: 1000, interval: 10 }).toEqual(['renamed', sneaked.description]);
    await store.transact(async (tx) => tx.putKey({ ...(await tx.getKey(first.id))!, revokedAt: iso(T0) }));
    await expect.poll(async () => (await other.findKeys(bobs)).data.find((k) => k.id === first.id)?.revokedAt, { timeout: 1000, interval: 10 }).toBe(iso(T0));
    await store.transact(async (tx) => {
      await tx.getKey(first.id);
      tx.deleteKey(first.id);
    });
    await expect.poll(async () => ids(await other.findKeys(bobs)), { timeout: 1000, interval: 10 }).toEqual([sneaked.id]);
    // What a kept page hands out cannot be changed.
    const page = await other.findKeys(bobs);
    expect(() => page.data.pop()).toThrow(TypeError);
    await hidden.end();
  });

  it('keys another server made are added to the counts and first pages a server keeps, without reading them again; where it cannot tell, it reads again', async () => {
    const { store, url } = await seeded();
    const { other, heard } = await listeningOther(url);
    const ids = (p: { data: ApiKey[] }) => p.data.map((k) => k.id);
    const newest = { owner: 'bob', order: 'created', descending: true, limit: 2, now: T0 } as const;
    // A create as the engine makes one: the new id looked up (no key has it), then written.
    const make = (k: ApiKey) =>
      store.transact(async (tx) => {
        expect(await tx.getKey(k.id)).toBeUndefined();
        tx.putKey(k);
      });
    const k1 = key('bob');
    await make(k1);
    await expect.poll(async () => ids(await other.findKeys(newest)), { timeout: 1000, interval: 10 }).toEqual([k1.id]);
    expect(await other.countActiveKeys('bob', T0)).toBe(1);
    // Written behind every server's back (uncounted): a server that read again would show it.
    const hidden = await behindServersBacks(url);
    await hidden.sneak(key('bob'));
    const k2 = key('bob');
    await make(k2);
    await expect.poll(() => heard.some((c) => c.made?.some((k) => k.id === k2.id)), { timeout: 1000, interval: 10 }).toBe(true);
    const page = await other.findKeys(newest);
    expect({ ids: ids(page), total: page.total, hasNext: page.hasNext }).toEqual({ ids: [k2.id, k1.id], total: 2, hasNext: false });
    expect(page.data[0]).toEqual(k2);
    expect(await other.countActiveKeys('bob', T0)).toBe(2);
    const k3 = key('bob');
    await make(k3);
    await expect.poll(async () => ids(await other.findKeys(newest)), { timeout: 1000, interval: 10 }).toEqual([k3.id, k2.id]);
    expect((await other.findKeys(newest)).total).toBe(3);
    expect((await other.findKeys(newest)).hasNext).toBe(true);
    expect(await other.countActiveKeys('bob', T0)).toBe(3);
    // A key made older than the full page's last row and than bob's newest key (a server whose
    // clock is behind): whether the kept answers held it cannot be told, so they are read again.
    const sneaked = key('bob');
    await hidden.sneak(sneaked);
    await make(key('bob', { created: iso(T0 - 60_000) }));
    await expect.poll(async () => ids(await other.findKeys(newest)), { timeout: 1000, interval: 10 }).toEqual([sneaked.id, k3.id]);
    expect((await other.findKeys(newest)).total).toBe(4);
    expect(await other.countActiveKeys('bob', T0)).toBe(6);
    await hidden.end();
  });

  it('a server keeps each key’s last use until a usage flush names it, its own or another server’s; last uses written in plain SQL reach it within a second', async () => {
    const { store, url } = await seeded();
    const { other, heard } = await listeningOther(url);
    const m = Math.floor(T0 / 60_000);
    await store.recordUsage([{ keyId: 'k1', minute: m, uses: 1, lastUsed: T0, addresses: [{ address: '10.0.0.1', lastSeen: T0 }] }], []);
    await expect.poll(async () => (await other.lastUsedOf(['k1', 'k2'])).get('k1')?.lastUsed, { timeout: 1000, interval: 10 }).toBe(T0);
    expect((await other.lastUsedOf(['k2'])).has('k2')).toBe(false);
    // Written behind every server's back and left out of the change count (triggers off for that session): kept, for as long as nothing names k1.
    const hidden = new pg.Client(url);
    await hidden.connect();
    await hidden.query(`SET session_replication_role = replica`);
    await hidden.query(`UPDATE keyward.last_use SET last_used = $1 WHERE key_id = 'k1'`, [T0 + 1]);
    const heardBefore = heard.length;
    // Past the second a last use used to be kept, and past several heartbeats.
    await new Promise((r) => setTimeout(r, 1500));
    expect((await other.lastUsedOf(['k1'])).get('k1')?.lastUsed).toBe(T0);
    expect((await other.lastUsedOf(['k2'])).has('k2')).toBe(false);
    // Another server's flush naming k3 only: k1 and k2 are still kept.
    await store.recordUsage([{ keyId: 'k3', minute: m, uses: 1, lastUsed: T0 + 2 }], []);
    await expect.poll(async () => (await other.lastUsedOf(['k3'])).get('k3')?.lastUsed, { timeout: 1000, interval: 10 }).toBe(T0 + 2);
    expect((await other.lastUsedOf(['k1'])).get('k1')?.lastUsed).toBe(T0);
    expect(heard.slice(heardBefore).some((c) => c.all)).toBe(false);
    // Its flush naming k1: read again.
    await store.recordUsage([{ keyId: 'k1', minute: m, uses: 1, lastUsed: T0 + 3 }], []);
    await expect.poll(async () => (await other.lastUsedOf(['k1'])).get('k1')?.lastUsed, { timeout: 1000, interval: 10 }).toBe(T0 + 3);
    // Counted, never announced (as a flush whose notification was lost): found by the heartbeat within a second.
    await hidden.query(`SET session_replication_role = origin`);
    await hidden.query(`INSERT INTO keyward.last_use (key_id, last_used) VALUES ('k2', $1)`, [T0 + 4]);
    await expect.poll(async () => (await other.lastUsedOf(['k2'])).get('k2')?.lastUsed, { timeout: 1000, interval: 10 }).toBe(T0 + 4);
    // Its own flush: at once.
    await other.recordUsage([{ keyId: 'k2', minute: m, uses: 1, lastUsed: T0 + 5 }], []);
    expect((await other.lastUsedOf(['k2'])).get('k2')?.lastUsed).toBe(T0 + 5);
    await hidden.end();
  });

  it('a usage flush, its own or another server’s, is merged into the last uses a server keeps, without a read, into what the database answers', async () => {
    const { store, url } = await seeded();
    const { other } = await listeningOther(url);
    const m = Math.floor(T0 / 60_000);
    const from = (...xs: [string, number][]) => xs.map(([address, lastSeen]) => ({ address, lastSeen }));
    await store.recordUsage([{ keyId: 'k1', minute: m, uses: 1, lastUsed: T0, addresses: from(['10.0.0.1', T0 - 4], ['10.0.0.2', T0 - 3], ['10.0.0.3', T0 - 2], ['10.0.0.4', T0]) }], []);
    await expect.poll(async () => (await other.lastUsedOf(['k1'])).get('k1')?.lastUsed, { timeout: 1000, interval: 10 }).toBe(T0);
    expect((await other.lastUsedOf(['k2'])).has('k2')).toBe(false);
    // Written behind every server's back (uncounted): a server that read k2 again would show it.
    const hidden = new pg.Client(url);
    await hidden.connect();
    await hidden.query(`SET session_replication_role = replica`);
    await hidden.query(`INSERT INTO keyward.last_use (key_id, last_used) VALUES ('k2', $1)`, [T0 + 100]);
    // Another server's flush: k1 seen from three more addresses (one it had, seen later), k2's first use.
    await store.recordUsage(
      [
        { keyId: 'k1', minute: m, uses: 2, lastUsed: T0 + 1, addresses: from(['10.0.0.5', T0 + 1], ['10.0.0.1', T0 + 1], ['10.0.0.6', T0 - 9]) },
        { keyId: 'k2', minute: m, uses: 1, lastUsed: T0 + 2, addresses: from(['10.0.1.1', T0 + 2]) },
      ],
      [],
    );
    await expect.poll(async () => (await other.lastUsedOf(['k1'])).get('k1')?.lastUsed, { timeout: 1000, interval: 10 }).toBe(T0 + 1);
    // k1 as the database answers it (a server that kept nothing reads it), k2 merged, not read.
    const fresh = open(url);
    expect((await other.lastUsedOf(['k1'])).get('k1')).toEqual((await fresh.lastUsedOf(['k1'])).get('k1'));
    expect((await other.lastUsedOf(['k1'])).get('k1')?.lastUsedFrom.map((a) => a.address)).toEqual(['10.0.0.1', '10.0.0.5', '10.0.0.4', '10.0.0.3', '10.0.0.2']);
    expect((await other.lastUsedOf(['k2'])).get('k2')).toEqual({ keyId: 'k2', uses: 0, lastUsed: T0 + 2, lastUsedFrom: from(['10.0.1.1', T0 + 2]) });
    // Its own flush: merged at once.
    await other.recordUsage([{ keyId: 'k1', minute: m, uses: 1, lastUsed: T0 + 3, addresses: from(['10.0.0.2', T0 + 3]) }], []);
    expect((await other.lastUsedOf(['k1'])).get('k1')).toEqual((await fresh.lastUsedOf(['k1'])).get('k1'));
    expect((await other.lastUsedOf(['k1'])).get('k1')?.lastUsed).toBe(T0 + 3);
    await hidden.end();
  });

  it('a key another server made on what it saw is known never used, without a read, until a flush names it', async () => {
    const { store, url } = await seeded();
    const { other, heard } = await listeningOther(url);
    const k = key('bob');
    // A create as the engine sends one whole (store.ts putWhole): answered once its notification is out.
    await store.transact(
      async (tx) => {
        expect(await tx.getKey(k.id)).toBeUndefined();
        tx.putKey(k);
      },
      { onWhatWasSeen: true },
    );
    await expect.poll(() => heard.some((c) => c.made?.some((m) => m.id === k.id)), { timeout: 1000, interval: 10 }).toBe(true);
    // A last use written behind every server's back (uncounted): a server that read it would show it.
    const hidden = new pg.Client(url);
    await hidden.connect();
    await hidden.query(`SET session_replication_role = replica`);
    await hidden.query(`INSERT INTO keyward.last_use (key_id, last_used) VALUES ($1, $2)`, [k.id, T0]);
    expect((await other.lastUsedOf([k.id])).has(k.id)).toBe(false);
    // A flush naming it: read again.
    await store.recordUsage([{ keyId: k.id, minute: Math.floor(T0 / 60_000), uses: 1, lastUsed: T0 + 1 }], []);
    await expect.poll(async () => (await other.lastUsedOf([k.id])).get(k.id)?.lastUsed, { timeout: 1000, interval: 10 }).toBe(T0 + 1);
    await hidden.end();
  });

  it('when the listening connection is cut, listeners hear `all` within a second, and again once it is back', async () => {
    const { url } = await seeded();
    const s = open(url);
    const heard: { at: number; c: StoreChange }[] = [];
    s.onChange((c) => heard.push({ at: Date.now(), c }));
    await expect.poll(() => s.listening, { timeout: 5000 }).toBe(true);
    const admin = new pg.Client(url);
    await admin.connect();
    const cut = Date.now();
    const killed = await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1`, [LISTENER_NAME]);
    expect(killed.rowCount).toBe(1);
    await expect.poll(() => heard.some((h) => h.at >= cut && h.c.all), { timeout: 1000 }).toBe(true);
    // Back: a change made elsewhere reaches it again.
    const k = key('bob');
    await expect
      .poll(
        async () => {
          await open(url).transact((tx) => tx.putKey({ ...k, description: String(Date.now()) }));
          return heard.some((h) => h.c.keyIds?.includes(k.id));
        },
        { timeout: 5000, interval: 300 },
      )
      .toBe(true);
    await admin.end();
  });
});

/**
 * A loopback proxy to the database whose connections can be frozen: bytes
 * stop flowing both ways while the sockets stay open, as when a peer or the
 * network between dies without a word (no FIN, no RST).
 */
async function freezableProxy(url: string): Promise<{ url: string; freezeAfterNextAnswer(): Promise<number>; close(): Promise<void> }> {
  const target = new URL(url);
  const sockets: Socket[] = [];
  let answered: (() => void) | undefined;
  const server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    sockets.push(client, upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    upstream.on('data', () => answered?.());
    client.on('error', () => undefined);
    upstream.on('error', () => undefined);
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  const proxied = new URL(url);
  proxied.hostname = '127.0.0.1';
  proxied.port = String(port);
  return {
    url: proxied.toString(),
    // Idle, the only bytes from the database are heartbeat answers: freezing right after one is the worst case.
    freezeAfterNextAnswer: () =>
      new Promise<number>((resolve) => {
        answered = () => {
          answered = undefined;
          for (const s of sockets) {
            s.unpipe();
            s.pause();
          }
          resolve(Date.now());
        };
      }),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

describe('a listening connection that dies without a word', () => {
  it('listeners hear `all` within a second of the last heartbeat it answered', async () => {
    const { url } = await seeded();
    const proxy = await freezableProxy(url);
    const s = open(proxy.url);
    const heard: { at: number; c: StoreChange }[] = [];
    s.onChange((c) => heard.push({ at: Date.now(), c }));
    await expect.poll(() => s.listening, { timeout: 5000 }).toBe(true);
    const frozen = await proxy.freezeAfterNextAnswer();
    await expect.poll(() => heard.find((h) => h.at >= frozen && h.c.all)?.at, { timeout: 3000, interval: 10 }).toBeDefined();
    // What was heard held when that answer was given; a timeout counted from the next, unanswered beat trusted it ~1.2 s (found by review).
    expect(heard.find((h) => h.at >= frozen && h.c.all)!.at - frozen).toBeLessThan(1000);
    await proxy.close();
  });
});

describe('a change whose notification never came', () => {
  // What a lost NOTIFY looks like to the other servers: a change made in plain
  // SQL, as an operator would, sends none. The database's change count
  // (migration 3) moved, and the heartbeat notices.
  //
  // The listening server is this test's own process, and each test here runs
  // as a timed child does (child.ts timedHere): at the usual priority, on a
  // machine at load 15-24, its event loop did not turn for 877 ms while its
  // heartbeat's answer waited in the socket (made-keys-differential.pg's
  // servers, in runs beside: 690 ms runnable and 14 ms run, by
  // /proc/thread-self/schedstat); the timer that drops a connection
  // unconfirmed for 700 ms ran first, 513 ms late, and listeners heard `all`
  // — rightly: a server must not trust what it heard on a connection it has
  // not confirmed for that long (changes.ts; the connection, which answered,
  // is now kept: feed-hold.pg.test.ts). The scheduler, not a lost
  // notification: 1 failure in 10 runs of the last two tests, alone.
  it('a change made in plain SQL reaches a listening server as `all` within a second, and what it cached is read again', timed(async () => {
    const { url } = await seeded();
    const other = open(url);
    const heard: { at: number; c: StoreChange }[] = [];
    other.onChange((c) => heard.push({ at: Date.now(), c }));
    await expect.poll(() => other.listening, { timeout: 5000 }).toBe(true);
    expect((await other.getUser('bob'))?.licence).toBe(true);
    const admin = new pg.Client(url);
    await admin.connect();
    const at = Date.now();
    await admin.query(`UPDATE keyward.users SET record = record || '{"licence": false}' WHERE id = 'bob'`);
    await admin.end();
    await expect.poll(() => heard.some((h) => h.at >= at && h.c.all), { timeout: 1000, interval: 10 }).toBe(true);
    expect(Date.now() - at).toBeLessThan(1000);
    expect((await other.getUser('bob'))?.licence).toBe(false);
  }));

  it('changes whose notifications come never make a listening server drop everything', timed(async () => {
    const { store, url } = await seeded();
    const { heard } = await listeningOther(url);
    const made: string[] = [];
    for (let i = 0; i < 20; i++) {
      const k = key('bob');
      made.push(k.id);
      await store.transact((tx) => tx.putKey(k));
      // Transactions that write only events or usage are announced but not counted.
      await store.append([event('api-key.generated', T0, 'bob', k.id)]);
    }
    await Promise.all([store.transact((tx) => tx.putUser(user('erin'))), store.transact((tx) => tx.putKey(key('alice')))]);
    // Three heartbeats: long enough for any notification to be matched, or missed.
    await new Promise((r) => setTimeout(r, 1000));
    expect(made.every((id) => heard.some((c) => c.keyIds?.includes(id)))).toBe(true);
    expect(heard.filter((c) => c.all)).toEqual([]);
  }));

  it('a server that hears its own changes back (creates sent whole and the locking way, users, events) never drops everything for them', timed(async () => {
    // Its own notifications are matched by the count they moved alone (changes.ts heard): were one
    // missed, the next heartbeat would find the count ahead and tell its listeners `all`.
    const { url } = await seeded();
    const { other: s, heard } = await listeningOther(url);
    for (let i = 0; i < 10; i++) {
      const k = key('bob', { description: `"s":1,"v":2} ${i}` });
      await s.transact(
        async (tx) => {
          expect(await tx.getKey(k.id)).toBeUndefined();
          tx.putKey(k);
          tx.emit(event('api-key.generated', T0, 'bob', k.id));
        },
        { onWhatWasSeen: true },
      );
      await s.transact((tx) => tx.putKey(key('alice')));
      await s.append([event('api-key.generated', T0, 'bob', k.id)]);
    }
    await s.transact((tx) => tx.putUser(user('erin')));
    // Three heartbeats: long enough for any notification to be matched, or missed.
    await new Promise((r) => setTimeout(r, 1000));
    expect(heard.filter((c) => c.all)).toEqual([]);
  }));
});

describe('faults', () => {
  it('a database that cannot be reached is UNAVAILABLE, naming where without the password', async () => {
    const port = await freePort();
    const s = open(`postgres://kw:hunter2@127.0.0.1:${port}/nowhere`);
    for (const attempt of [() => s.tenant(), () => s.transact(() => 1), () => s.append([event('api-key.auth-failed', T0, 'x')])]) {
      const e = await attempt().then(
        () => undefined,
        (err: unknown) => err as { code: string; message: string },
      );
      expect(e?.code).toBe('UNAVAILABLE');
      expect(e?.message).toContain(`127.0.0.1:${port}`);
      expect(e?.message).not.toContain('hunter2');
    }
  });
});
