// New keys added to what a PostgreSQL server keeps (record-cache.ts with
// made-keys.ts), without a database: each answer after a change that made
// keys must be the one a fresh read of the database would give, including
// when the cached read already saw the key its notification announces.

import { describe, expect, it } from 'vitest';
import type { ApiKey } from '../../src/domain.js';
import type { FoundPage, KeyFind, StoreChange } from '../../src/store/boundary.js';
import { RecordCache } from '../../src/store/postgres/record-cache.js';

const T0 = Date.parse('2026-03-01T12:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();
let n = 0;
function key(owner: string, createdAt: number, over: Partial<ApiKey> = {}): ApiKey {
  n++;
  const id = (n.toString(16).padStart(4, '0') + 'b'.repeat(24)).slice(0, 24);
  return { id, description: `key ${n}`, owner, createdBy: owner, created: iso(createdAt), lastUpdated: iso(createdAt), expiry: iso(T0 + 86_400_000), hash: 'h'.repeat(64), ...over };
}

/** The database as far as these questions go: keys, answered as keys-table.ts answers them. */
class Keys {
  readonly all: ApiKey[] = [];
  /** Reads the cache made. */
  loads = 0;
  page(q: KeyFind): FoundPage<ApiKey> {
    const rows = this.all
      .filter((k) => q.owner === undefined || k.owner === q.owner)
      .sort((a, b) => (Date.parse(b.created) - Date.parse(a.created)) * (q.descending ? 1 : -1) || (a.id < b.id ? -1 : 1));
    return { data: rows.slice(0, q.limit), total: rows.length, hasNext: rows.length > q.limit, hasPrev: false };
  }
  count(owner: string, now: number): { n: number; until: number; newest: number | undefined } {
    const mine = this.all.filter((k) => k.owner === owner);
    const active = mine.filter((k) => !k.revokedAt && Date.parse(k.expiry) > now);
    return {
      n: active.length,
      until: Math.min(Infinity, ...active.map((k) => Date.parse(k.expiry))),
      newest: mine.length ? Math.max(...mine.map((k) => Date.parse(k.created))) : undefined,
    };
  }
}

/** A create as the store announces it: every key it names is new. */
const made = (...keys: ApiKey[]): Omit<StoreChange, 'version'> => ({ keyIds: keys.map((k) => k.id), keyOwners: [...new Set(keys.map((k) => k.owner))], made: keys });

function setUp() {
  const db = new Keys();
  const cache = new RecordCache(() => true);
  const change = (c: Omit<StoreChange, 'version'>) => cache.changed({ ...c, version: 0 });
  const page = (q: KeyFind) => cache.pageOf(q, async () => (db.loads++, db.page(q)));
  const count = (owner: string, now = T0) => cache.activeKeysOf(owner, now, async () => (db.loads++, db.count(owner, now)));
  /** What the database answers now, read past the cache. */
  const fresh = (q: KeyFind) => db.page(q);
  return { db, change, page, count, fresh };
}

const bobsNewest = { owner: 'bob', order: 'created', descending: true, limit: 3, now: T0 } as const;

describe('keys made elsewhere, added to what a server keeps', () => {
  it('a first page and an active count take new keys in place: the same answer as a fresh read, without one', async () => {
    const { db, change, page, count, fresh } = setUp();
    db.all.push(key('bob', T0 - 3000), key('bob', T0 - 2000));
    expect((await page(bobsNewest)).total).toBe(2);
    expect(await count('bob')).toBe(2);
    const loads = db.loads;
    for (const at of [T0 - 1000, T0, T0 + 1000]) {
      const k = key('bob', at);
      db.all.push(k);
      change(made(k));
      const kept = await page(bobsNewest);
      expect({ ...kept, data: [...kept.data] }).toEqual(fresh(bobsNewest));
      expect(await count('bob')).toBe(db.count('bob', T0).n);
    }
    // Five keys, a page of three with more after it, and no read since the first.
    expect((await page(bobsNewest)).hasNext).toBe(true);
    expect(db.loads).toBe(loads);
  });

  it('a key the cached read already held is not added twice (its notification came after the read)', async () => {
    const { db, change, page, count, fresh } = setUp();
    const early = key('bob', T0 - 1000);
    const k = key('bob', T0);
    db.all.push(early, k);
    const before = await page(bobsNewest);
    expect(before.total).toBe(2);
    expect(await count('bob')).toBe(2);
    change(made(k));
    const after = await page(bobsNewest);
    expect({ ...after, data: [...after.data] }).toEqual(fresh(bobsNewest));
    // The count cannot tell whether it held k (made no later than its newest key): it is read again, and right.
    const loads = db.loads;
    expect(await count('bob')).toBe(2);
    expect(db.loads).toBe(loads + 1);
  });

  it('where the cache cannot tell, it reads again: a key older than a full page’s last row, or than the newest counted', async () => {
    const { db, change, page, count, fresh } = setUp();
    for (const at of [T0 - 3000, T0 - 2000, T0 - 1000, T0]) db.all.push(key('bob', at));
    expect((await page(bobsNewest)).hasNext).toBe(true);
    expect(await count('bob')).toBe(4);
    // Made by a server whose clock is behind: it sorts past the page's last row.
    const old = key('bob', T0 - 10_000);
    db.all.push(old);
    change(made(old));
    const loads = db.loads;
    const after = await page(bobsNewest);
    expect(after.total).toBe(5);
    expect({ ...after, data: [...after.data] }).toEqual(fresh(bobsNewest));
    expect(await count('bob')).toBe(5);
    expect(db.loads).toBe(loads + 2);
  });

  it('a change that did more than make keys (a rotation: a new key and the old one changed) drops what was kept', async () => {
    const { db, change, page, count } = setUp();
    const a = key('bob', T0 - 1000);
    db.all.push(a);
    await page(bobsNewest);
    expect(await count('bob')).toBe(1);
    const b = key('bob', T0);
    db.all.push(b);
    const shortened = { ...a, expiry: iso(T0 + 1000) };
    db.all[0] = shortened;
    change({ keyIds: [b.id, a.id], keyOwners: ['bob'], made: [b] });
    expect((await page(bobsNewest)).data.find((k) => k.id === a.id)?.expiry).toBe(shortened.expiry);
    // Kept, the count would still say 1; a is active until T0 + 1000, and b too.
    expect(await count('bob')).toBe(2);
  });

  it('other owners’ pages stay as they were; everyone’s first page takes the key too; pages in another order are read again', async () => {
    const { db, change, page, fresh } = setUp();
    db.all.push(key('bob', T0 - 1000), key('alice', T0 - 500));
    const everyone = { order: 'created', descending: true, limit: 10, now: T0 } as const;
    const alices = { ...bobsNewest, owner: 'alice' };
    const byDescription = { ...bobsNewest, order: 'description' } as const;
    await page(alices);
    // The read that fills the cache hands out its own copy; the ones after, what is kept.
    const alicePage = await page(alices);
    await page(everyone);
    await page(byDescription);
    const k = key('bob', T0);
    db.all.push(k);
    change(made(k));
    expect(await page(alices)).toBe(alicePage);
    const all = await page(everyone);
    expect({ ...all, data: [...all.data] }).toEqual(fresh(everyone));
    const loads = db.loads;
    await page(byDescription);
    expect(db.loads).toBe(loads + 1);
  });

  it('a page with no rows is read again (findKeys counts it in a statement of its own, maybe of another snapshot)', async () => {
    const { db, change, page } = setUp();
    await page(bobsNewest);
    const k = key('bob', T0);
    db.all.push(k);
    // The cached empty page's total (a count read later) may already hold k: only a read again is sure.
    change(made(k));
    const loads = db.loads;
    expect((await page(bobsNewest)).total).toBe(1);
    expect(db.loads).toBe(loads + 1);
  });

  it('a new key counts only while it is active: the count holds until it expires', async () => {
    const { db, change, count } = setUp();
    db.all.push(key('bob', T0 - 1000));
    expect(await count('bob')).toBe(1);
    const soon = key('bob', T0, { expiry: iso(T0 + 5000) });
    db.all.push(soon);
    change(made(soon));
    expect(await count('bob', T0 + 1000)).toBe(2);
    expect(await count('bob', T0 + 5000)).toBe(1);
  });
});
