// What a PostgreSQL server keeps of a read that was under way when a change
// arrived (record-cache.ts), without a database: not kept when the change
// concerns what it read (it may have read before the change), kept when the
// change is about other records — so a steady stream of other owners'
// creates does not make every read ask the database again.

import { describe, expect, it } from 'vitest';
import type { ApiKey, Tenant } from '../../src/domain.js';
import { DEFAULT_SETTINGS } from '../../src/domain.js';
import type { FoundPage, KeyUsage, StoreChange } from '../../src/store/boundary.js';
import { RecordCache } from '../../src/store/postgres/record-cache.js';

const T0 = Date.parse('2026-03-01T12:00:00.000Z');
const page = (n: number): FoundPage<ApiKey> => ({ data: [], total: n, hasNext: false, hasPrev: false });
const bobs = { owner: 'bob', limit: 20, now: T0 };

/** A read the test answers when it likes, counting how many were asked. */
function slowLoads<T>() {
  let asked = 0;
  const pending: ((v: T) => void)[] = [];
  return {
    load: () => {
      asked++;
      return new Promise<T>((resolve) => pending.push(resolve));
    },
    answer: (v: T) => pending.shift()!(v),
    get asked() {
      return asked;
    },
  };
}

async function whileReading<V>(read: () => Promise<unknown>, loads: { answer(v: V): void }, v: V, change: () => void): Promise<void> {
  const under = read();
  change();
  loads.answer(v);
  await under;
}

describe('a read under way when a change arrives', () => {
  it('an owner’s page or count is not kept after a change to that owner’s keys, and is kept after changes to other owners’ keys', async () => {
    const cache = new RecordCache(() => true);
    const change = (c: Omit<StoreChange, 'version'>) => cache.changed({ ...c, version: 0 });
    const pages = slowLoads<FoundPage<ApiKey>>();
    const counts = slowLoads<{ n: number; until: number; newest: number | undefined }>();
    const alicesKey = { keyIds: ['a'.repeat(24)], keyOwners: ['alice'] };
    const bobsKey = { keyIds: ['b'.repeat(24)], keyOwners: ['bob'] };
    // Alice's keys change while bob's page and count are read: both kept.
    await whileReading(() => cache.pageOf(bobs, pages.load), pages, page(1), () => change(alicesKey));
    await whileReading(() => cache.activeKeysOf('bob', T0, counts.load), counts, { n: 1, until: Infinity, newest: T0 }, () => change(alicesKey));
    expect((await cache.pageOf(bobs, pages.load)).total).toBe(1);
    expect(await cache.activeKeysOf('bob', T0, counts.load)).toBe(1);
    expect([pages.asked, counts.asked]).toEqual([1, 1]);
    // Bob's keys change while they are read again: not kept; the next read asks once more.
    change(bobsKey);
    await whileReading(() => cache.pageOf(bobs, pages.load), pages, page(1), () => change(bobsKey));
    await whileReading(() => cache.activeKeysOf('bob', T0, counts.load), counts, { n: 1, until: Infinity, newest: T0 }, () => change(bobsKey));
    const again = cache.pageOf(bobs, pages.load);
    pages.answer(page(2));
    expect((await again).total).toBe(2);
    const counted = cache.activeKeysOf('bob', T0, counts.load);
    counts.answer({ n: 2, until: Infinity, newest: T0 });
    expect(await counted).toBe(2);
    expect([pages.asked, counts.asked]).toEqual([3, 3]);
    // A change whose keys' owners are unknown, or `all`, concerns every owner.
    for (const c of [{ keyIds: ['c'.repeat(24)] }, { all: true }]) {
      change({ all: true });
      await whileReading(() => cache.pageOf(bobs, pages.load), pages, page(9), () => change(c));
      const next = cache.pageOf(bobs, pages.load);
      pages.answer(page(3));
      expect((await next).total).toBe(3);
    }
  });

  it('last uses are not kept after a usage flush or a change to those keys; the tenant and a user only after changes to them', async () => {
    const cache = new RecordCache(() => true);
    const change = (c: Omit<StoreChange, 'version'>) => cache.changed({ ...c, version: 0 });
    const k = 'd'.repeat(24);
    const used = (at: number) => new Map<string, KeyUsage>([[k, { keyId: k, uses: 0, lastUsed: at, addresses: [] } as unknown as KeyUsage]]);
    const uses = slowLoads<Map<string, KeyUsage>>();
    await whileReading(() => cache.lastUsesOf([k], uses.load), uses, used(T0), () => change({ keyIds: ['e'.repeat(24)], keyOwners: ['bob'] }));
    expect((await cache.lastUsesOf([k], uses.load)).get(k)?.lastUsed).toBe(T0);
    expect(uses.asked).toBe(1);
    for (const c of [{}, { keyIds: [k], keyOwners: ['bob'] }]) {
      change({});
      await whileReading(() => cache.lastUsesOf([k], uses.load), uses, used(T0), () => change(c));
      const next = cache.lastUsesOf([k], uses.load);
      uses.answer(used(T0 + 1));
      expect((await next).get(k)?.lastUsed).toBe(T0 + 1);
    }
    const tenant = (name: string): Tenant => ({ id: 't', name, created: new Date(T0).toISOString(), settings: DEFAULT_SETTINGS });
    const tenants = slowLoads<Tenant | undefined>();
    await whileReading(() => cache.tenantOf(tenants.load), tenants, tenant('kept'), () => change({ userIds: ['bob'] }));
    expect((await cache.tenantOf(tenants.load))?.name).toBe('kept');
    change({ tenant: true });
    await whileReading(() => cache.tenantOf(tenants.load), tenants, tenant('old'), () => change({ tenant: true }));
    const next = cache.tenantOf(tenants.load);
    tenants.answer(tenant('new'));
    expect((await next)?.name).toBe('new');
    const users = slowLoads<{ id: string; licence: boolean; roles: never[]; created: string } | undefined>();
    const bob = (licence: boolean) => ({ id: 'bob', licence, roles: [], created: '' });
    await whileReading(() => cache.userOf('bob', users.load), users, bob(true), () => change({ userIds: ['alice'] }));
    expect((await cache.userOf('bob', users.load))?.licence).toBe(true);
    change({ userIds: ['bob'] });
    await whileReading(() => cache.userOf('bob', users.load), users, bob(true), () => change({ userIds: ['bob'] }));
    const read = cache.userOf('bob', users.load);
    users.answer(bob(false));
    expect((await read)?.licence).toBe(false);
  });
});

describe('misses for the same question at once', () => {
  it('ask the database once and share the answer, unless a change concerning it came before or while it was read', async () => {
    const cache = new RecordCache(() => true);
    const change = (c: Omit<StoreChange, 'version'>) => cache.changed({ ...c, version: 0 });
    const pages = slowLoads<FoundPage<ApiKey>>();
    // Three requests of one turn ask bob's page: one read, three answers.
    const three = [cache.pageOf(bobs, pages.load), cache.pageOf(bobs, pages.load), cache.pageOf(bobs, pages.load)];
    expect(pages.asked).toBe(1);
    pages.answer(page(1));
    expect((await Promise.all(three)).map((p) => p.total)).toEqual([1, 1, 1]);
    // Another owner's page is another question.
    const alices = cache.pageOf({ ...bobs, owner: 'alice' }, pages.load);
    expect(pages.asked).toBe(2);
    pages.answer(page(5));
    expect((await alices).total).toBe(5);

    // A change to bob's keys heard before the second asks: it reads on its own (the first may have read before the change).
    change({ keyIds: ['b'.repeat(24)], keyOwners: ['bob'] });
    const before = cache.pageOf(bobs, pages.load);
    change({ keyIds: ['b'.repeat(24)], keyOwners: ['bob'] });
    const after = cache.pageOf(bobs, pages.load);
    expect(pages.asked).toBe(4);
    pages.answer(page(1));
    pages.answer(page(2));
    expect([(await before).total, (await after).total]).toEqual([1, 2]);

    // A change heard while the shared read runs: the one who waited asks again.
    change({ keyIds: ['b'.repeat(24)], keyOwners: ['bob'] });
    const first = cache.pageOf(bobs, pages.load);
    const waiting = cache.pageOf(bobs, pages.load);
    expect(pages.asked).toBe(5);
    change({ keyIds: ['b'.repeat(24)], keyOwners: ['bob'] });
    pages.answer(page(2));
    expect((await first).total).toBe(2);
    await expect.poll(() => pages.asked).toBe(6);
    pages.answer(page(3));
    expect((await waiting).total).toBe(3);
  });

  it('are not shared while the server is not listening, and a count shared from an earlier read is not used past its end', async () => {
    let listening = false;
    const cache = new RecordCache(() => listening);
    const users = slowLoads<{ id: string; licence: boolean; roles: never[]; created: string } | undefined>();
    const two = [cache.userOf('bob', users.load), cache.userOf('bob', users.load)];
    expect(users.asked).toBe(2);
    users.answer({ id: 'bob', licence: true, roles: [], created: '' });
    users.answer({ id: 'bob', licence: false, roles: [], created: '' });
    expect((await Promise.all(two)).map((u) => u?.licence)).toEqual([true, false]);

    listening = true;
    const counts = slowLoads<{ n: number; until: number; newest: number | undefined }>();
    const early = cache.activeKeysOf('bob', T0, counts.load);
    const late = cache.activeKeysOf('bob', T0 + 10, counts.load);
    expect(counts.asked).toBe(1);
    // Bob's first key ends at T0 + 5: counted at T0, it is not the count at T0 + 10.
    counts.answer({ n: 2, until: T0 + 5, newest: T0 });
    expect(await early).toBe(2);
    await expect.poll(() => counts.asked).toBe(2);
    counts.answer({ n: 1, until: Infinity, newest: T0 });
    expect(await late).toBe(1);
  });
});

describe('keys this server has just made', () => {
  it('are known never used, without a read, until a flush names them; not while the server is not listening', async () => {
    let listening = true;
    const cache = new RecordCache(() => listening);
    const change = (c: Omit<StoreChange, 'version'>) => cache.changed({ ...c, version: 0 });
    const [made, other] = ['f'.repeat(24), 'e'.repeat(24)];
    const uses = slowLoads<Map<string, KeyUsage>>();
    cache.neverUsed([made]);
    expect((await cache.lastUsesOf([made], uses.load)).has(made)).toBe(false);
    expect(uses.asked).toBe(0);
    // A flush naming another key keeps it; one naming it does not.
    change({ usedKeyIds: [other] });
    expect((await cache.lastUsesOf([made], uses.load)).has(made)).toBe(false);
    expect(uses.asked).toBe(0);
    change({ usedKeyIds: [made] });
    const read = cache.lastUsesOf([made], uses.load);
    expect(uses.asked).toBe(1);
    uses.answer(new Map([[made, { keyId: made, uses: 0, lastUsed: T0, lastUsedFrom: [] }]]));
    expect((await read).get(made)?.lastUsed).toBe(T0);
    // Not listening: nothing is set, and the next read asks.
    listening = false;
    cache.neverUsed([other]);
    listening = true;
    const asked = cache.lastUsesOf([other], uses.load);
    expect(uses.asked).toBe(2);
    uses.answer(new Map());
    await asked;
  });
});

describe('keys another server made', () => {
  it('are known never used, without a read, unless a flush of this server named them in the last three heartbeats or a last use is kept', async () => {
    let listening = true;
    const cache = new RecordCache(() => listening);
    const change = (c: Omit<StoreChange, 'version'>) => cache.changed({ ...c, version: 0 });
    const [made, flushed, kept, unsure] = ['1'.repeat(24), '2'.repeat(24), '3'.repeat(24), '4'.repeat(24)];
    const uses = slowLoads<Map<string, KeyUsage>>();
    const used = (id: string, at: number) => new Map<string, KeyUsage>([[id, { keyId: id, uses: 0, lastUsed: at, lastUsedFrom: [] }]]);
    // A last use read before the making was heard stays as it was read.
    const read = cache.lastUsesOf([kept], uses.load);
    uses.answer(used(kept, T0));
    await read;
    // This server's flush named `flushed` before the other's notification of its making came (on another connection).
    change({ usedKeyIds: [flushed] });
    cache.heartbeat();
    cache.heartbeat();
    cache.madeElsewhere([made, flushed, kept]);
    expect((await cache.lastUsesOf([made, kept], uses.load)).get(kept)?.lastUsed).toBe(T0);
    expect(uses.asked).toBe(1);
    const asked = cache.lastUsesOf([flushed], uses.load);
    expect(uses.asked).toBe(2);
    uses.answer(used(flushed, T0 + 1));
    expect((await asked).get(flushed)?.lastUsed).toBe(T0 + 1);
    // Three heartbeats after that flush, it can no longer come before a making heard now.
    change({ usedKeyIds: [flushed] });
    for (let i = 0; i < 3; i++) cache.heartbeat();
    cache.madeElsewhere([flushed]);
    expect((await cache.lastUsesOf([flushed], uses.load)).has(flushed)).toBe(false);
    expect(uses.asked).toBe(2);
    // A flush whose fate is unknown may have named any key; and nothing is set while not listening.
    cache.flushUnsure();
    cache.madeElsewhere([unsure]);
    for (let i = 0; i < 3; i++) cache.heartbeat();
    listening = false;
    cache.madeElsewhere([unsure]);
    listening = true;
    const last = cache.lastUsesOf([unsure], uses.load);
    expect(uses.asked).toBe(3);
    uses.answer(new Map());
    await last;
  });
});
