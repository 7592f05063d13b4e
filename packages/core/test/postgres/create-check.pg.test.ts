// Migration 12's create procedure checks what a create was decided on for
// less (migrations.ts PUT_COUNTED_KEYS_CHECKED_AT_THE_LOCKS): the tenant and
// users as its locks found them, then one small statement, and migration
// 10's whole check wherever those cannot say "holds". It must pass exactly
// what migration 10's procedure passed: here both are called on the same
// database with the same expectations — as seen, changed, absent, not
// locked, counted with and without a mark, a key expired in between, an id
// taken — and must answer alike. Migration 13's passes all that too, and
// more: a count that no longer holds, where the key limit holds whatever the
// count is (the owner's keys of every status within it) and the locks make
// that the database's — and nothing else. Nothing is written by any of
// them (no keys, no events), so every case meets the same rows.
import { afterAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { DEFAULT_SETTINGS, type ApiKey, type Tenant, type User } from '../../src/domain.js';
import { writeKeys } from '../../src/store/postgres/keys-table.js';
import { SCHEMA_VERSION, migrate } from '../../src/store/postgres/migrations.js';
import { insertTenant } from '../../src/store/postgres/tenant-table.js';
import { writeUser } from '../../src/store/postgres/users-table.js';
import { createTestDatabase } from '../../../../test/support/postgres.js';

const iso = (ms: number) => new Date(ms).toISOString();
const NOW = Date.now();
const HOUR = 3_600_000;
const placeholders = (n: number) => Array.from({ length: n }, (_, i) => `$${i + 1}`).join(', ');

// A small random source with a fixed seed: a failure can be run again.
function random(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

function key(n: number, owner: string, expiry: number): ApiKey {
  const created = iso(NOW - 10 * HOUR + n);
  return { id: n.toString(16).padStart(24, '0'), description: `key ${n}`, owner, createdBy: owner, created, lastUpdated: created, expiry: iso(expiry), hash: 'h'.repeat(64) };
}

async function migratedWithEarlierCreates() {
  const d = await createTestDatabase();
  afterAll(() => d.drop());
  const pool = new pg.Pool({ connectionString: d.url });
  afterAll(() => pool.end());
  // Migrations 10's and 12's procedures, each kept under another name before the next migration redefines it.
  const keep = async (as: string) => {
    const def = (await pool.query<{ d: string }>(`SELECT pg_get_functiondef('keyward.put_counted_keys_and_announce'::regproc) AS d`)).rows[0].d;
    await pool.query(def.replace('keyward.put_counted_keys_and_announce(', `keyward.${as}(`));
  };
  await migrate(pool, 'test', 11);
  await keep('migration_10_create');
  await migrate(pool, 'test', 12);
  await keep('migration_12_create');
  await migrate(pool, 'test', SCHEMA_VERSION);
  return pool;
}

describe('the create procedures of migrations 12 and 13', () => {
  it('12 passes and refuses exactly what migration 10’s did, whatever was seen; 13 passes that, and where only a count no longer holds, passes it where the key limit holds whatever the count', async () => {
    const pool = await migratedWithEarlierCreates();
    // A limit of 2: bob's three keys (of any status) are past it, carol's one and alice's none are not.
    const LIMIT = 2;
    const tenant: Tenant = { id: 't1', name: 'acme', created: iso(NOW - 10 * HOUR), settings: { ...DEFAULT_SETTINGS, apiKeysEnabled: true, maxKeysPerUser: LIMIT } };
    const user = (id: string): User => ({ id, licence: true, roles: ['Developer'], created: iso(NOW - 10 * HOUR) });
    await insertTenant(pool, tenant);
    for (const id of ['alice', 'bob', 'carol']) await writeUser(pool, user(id));
    // bob: three active keys, one expiring in an hour (between a count seen now and a create two hours on), one revoked later.
    await writeKeys(pool, [key(1, 'bob', NOW + 24 * HOUR), key(2, 'bob', NOW + HOUR), key(3, 'bob', NOW + 48 * HOUR), key(4, 'carol', NOW + 24 * HOUR)]);
    const marks = Object.fromEntries(
      (await pool.query<{ owner: string; mark: string }>('SELECT owner, changes + n AS mark FROM keyward.key_counts')).rows.map((r) => [r.owner, Number(r.mark)]),
    );
    const active = { bob: 3, carol: 1, alice: 0 } as Record<string, number>;
    const keysOfEveryStatus = { bob: 3, carol: 1, alice: 0 } as Record<string, number>;

    const rnd = random(20261202);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const askEach = async (values: unknown[]) => {
      const outcome = async (procedure: string) =>
        pool.query(`CALL keyward.${procedure}(${placeholders(15)})`, values).then(
          () => 'holds',
          (e: { code?: string }) => e.code ?? String(e),
        );
      return [await outcome('migration_10_create'), await outcome('migration_12_create'), await outcome('put_counted_keys_and_announce')];
    };
    const seen = { holds: 0, refused: 0, byTheLimit: 0, notByTheLimit: 0 };
    for (let i = 0; i < 150; i++) {
      // Each part as seen most of the time, so that every part holding is asked for too.
      const mostly = <T>(right: T, ...wrong: T[]): T => (rnd() < 0.8 ? right : pick(wrong));
      const seenTenant = mostly<boolean | null>(true, false, null);
      const tenantAsSeen = mostly<Tenant | undefined>(tenant, { ...tenant, name: 'other' }, undefined);
      // Mostly carol, within the limit; bob, past it, often too.
      const owners = rnd() < 0.5 ? mostly(['carol'], ['bob'], [], ['alice']) : mostly(['bob'], ['bob', 'carol'], ['alice']);
      // Mostly the actor (bob) and the owners, as a create locks them.
      const locked = mostly([...new Set(['bob', ...owners])], ['bob'], [], ['alice', 'bob'], ['bob', 'nobody'], ['carol', 'bob']);
      const seenUsers = mostly(['bob'], [], ['bob', 'alice'], ['nobody'], ['carol'], ['alice', 'bob', 'nobody']);
      const usersAsSeen = seenUsers.map((id) => (id === 'nobody' ? mostly<User | null>(null, user(id)) : mostly<User | null>(user(id), null, { ...user(id), licence: false })));
      const at = mostly(NOW, NOW + 2 * HOUR);
      const counts = owners.map((o) => ({
        n: mostly(active[o], active[o] + 1),
        // Half the time a mark that moved, or none: where only a count fails, the limit decides.
        changes: rnd() < 0.5 ? (marks[o] ?? 0) : pick<number | null>([(marks[o] ?? 0) + 2, null]),
        since: mostly(at, NOW),
      }));
      const absent = mostly(['f'.repeat(24)], [], [key(1, 'bob', 0).id]);
      const valuesWith = (cs: typeof counts) => [
        seenTenant,
        tenantAsSeen === undefined ? null : JSON.stringify(tenantAsSeen),
        locked,
        seenUsers,
        JSON.stringify(usersAsSeen),
        owners,
        owners.map(() => iso(at)),
        cs.map((c) => c.n),
        cs.map((c) => c.changes),
        cs.map((c) => iso(c.since)),
        absent,
        '[]',
        '[]',
        'keyward_check_test',
        '{}',
      ];
      const values = valuesWith(counts);
      const [by10, by12, by13] = await askEach(values);
      expect({ case: i, values, answer: by12 }).toEqual({ case: i, values, answer: by10 });
      expect(['holds', 'KW001']).toContain(by13);
      // Migration 13: what 12 passed; else, where everything but the counts holds as 12 sees it (the same case
      // with every count right), the tenant is locked as seen, every user seen is locked and found, and each
      // count holds by its mark in the common case's look, or else by the limit: its owner's row locked, and
      // the owner's keys of every status within the tenant's limit.
      const rightCounts = owners.map((o) => ({ n: active[o], changes: marks[o] ?? 0, since: at }));
      const [, restHolds] = await askEach(valuesWith(rightCounts));
      const lockedAsSeen = seenTenant === true && tenantAsSeen === tenant && seenUsers.every((u) => locked.includes(u) && u !== 'nobody');
      // Bob's key expiring in an hour lies between a count made now and a create two hours on.
      const byMark = (o: string, c: (typeof counts)[number]) => c.changes === (marks[o] ?? 0) && !(o === 'bob' && c.since !== at);
      const byLimit = (o: string) => locked.includes(o) && keysOfEveryStatus[o] <= LIMIT;
      const expected = by12 === 'holds' || (restHolds === 'holds' && lockedAsSeen && owners.every((o, k) => byMark(o, counts[k]) || byLimit(o))) ? 'holds' : 'KW001';
      expect({ case: i, values, answer: by13 }).toEqual({ case: i, values, answer: expected });
      seen[by13 === 'holds' ? 'holds' : 'refused']++;
      if (by12 !== 'holds' && restHolds === 'holds' && lockedAsSeen) seen[by13 === 'holds' ? 'byTheLimit' : 'notByTheLimit']++;
    }
    // Every answer was asked for often: holds, refused, and, where only a count failed, held by the limit and not.
    expect(seen.holds).toBeGreaterThan(20);
    expect(seen.refused).toBeGreaterThan(20);
    expect(seen.byTheLimit).toBeGreaterThan(5);
    expect(seen.notByTheLimit).toBeGreaterThan(5);
  });

  it('names in its notification the count its own transaction left in its slot', async () => {
    const pool = await migratedWithEarlierCreates();
    await insertTenant(pool, { id: 't1', name: 'acme', created: iso(NOW), settings: { ...DEFAULT_SETTINGS, apiKeysEnabled: true } });
    await writeUser(pool, { id: 'bob', licence: true, roles: ['Developer'], created: iso(NOW) });
    const listener = await pool.connect();
    const heard: string[] = [];
    listener.on('notification', (m) => heard.push(m.payload ?? ''));
    await listener.query('LISTEN keyward_check_test');
    const k = key(9, 'bob', NOW + 24 * HOUR);
    const e = { id: 'e9', eventType: 'api-key.generated', eventTime: k.created, userId: 'bob', keyId: k.id, data: {} };
    const c = await pool.connect();
    const mark = Number((await c.query(`SELECT coalesce((SELECT changes + n FROM keyward.key_counts WHERE owner = 'bob'), 0) AS m`)).rows[0].m);
    await c.query(`CALL keyward.put_counted_keys_and_announce(${placeholders(15)})`, [
      false, null, ['bob'], [], '[]', ['bob'], [iso(NOW)], [0], [mark], [iso(NOW)], [k.id], JSON.stringify([k]), JSON.stringify([e]), 'keyward_check_test', '{"o":"x"}',
    ]);
    const slot = Number((await c.query('SELECT pg_backend_pid() % 1024 AS s')).rows[0].s);
    c.release();
    await expect.poll(() => heard.length, { timeout: 5000 }).toBe(1);
    const left = Number((await pool.query('SELECT n FROM keyward.change_count WHERE slot = $1', [slot])).rows[0].n);
    expect(JSON.parse(heard[0])).toEqual({ o: 'x', s: slot, v: left });
    // The key, its event and bob's count written, as migration 10's procedure wrote them.
    expect((await pool.query('SELECT record FROM keyward.keys WHERE id = $1', [k.id])).rows[0].record).toEqual(k);
    expect((await pool.query(`SELECT record FROM keyward.events WHERE id = 'e9'`)).rows[0].record).toEqual(e);
    expect(Number((await pool.query(`SELECT changes + n AS m FROM keyward.key_counts WHERE owner = 'bob'`)).rows[0].m)).toBe(mark + 2);
    listener.release();
  });
});
