// Writes that append no event of a use case — a store's init, events
// appended as they are, retention's removal, a copy's keys and usage counts —
// whose COMMIT committed and whose answer was lost: each is answered by what
// it did (its tenant, its event, what it removed, the keys as written, the
// flush's name are looked for once its backend is gone), or OUTCOME_UNKNOWN
// where nothing tells; never UNAVAILABLE ("nothing was changed"), which each
// was before. On a real PostgreSQL.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS } from '../../src/domain.js';
import { createEngine, initStore } from '../../src/engine.js';
import { newEvent } from '../../src/events.js';
import { copyStore } from '../../src/store/copy.js';
import { MemoryStore } from '../../src/store/memory.js';
import { SCHEMA_VERSION } from '../../src/store/postgres/migrations.js';
import { createPostgresStore } from '../../src/store/postgres/store.js';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/postgres.js';
import { seededDatabase, usesOf } from './seeded-database.js';
import { losingTheAnswersOnceCommitted } from './lost-answers.js';

let db: TestDatabase;
let admin: pg.Client;
let drop: () => Promise<void>;
beforeAll(async () => void ({ db, admin, drop } = await seededDatabase()));
afterAll(() => drop());

const eventsWithId = async (id: string) => Number((await admin.query(`SELECT count(*) AS n FROM keyward.events WHERE id = $1`, [id])).rows[0].n);

/** `run` with a store on a database of its own, empty, and another session on it to look with; all gone after. */
async function onAnEmptyDatabase(run: (store: ReturnType<typeof createPostgresStore>, other: pg.Client) => Promise<void>): Promise<void> {
  const empty = await createTestDatabase();
  const store = createPostgresStore(empty.url);
  const other = new pg.Client(empty.url);
  await other.connect();
  try {
    await run(store, other);
  } finally {
    await other.end();
    await store.close();
    await empty.drop();
  }
}

describe('a write that appends no event of a use case, its COMMIT committed and its answer lost', () => {
  it('an init is answered as made (true): its tenant is there — UNAVAILABLE before', () =>
    onAnEmptyDatabase(async (store, other) => {
      const made = async () => (await other.query(`SELECT to_regclass('keyward.tenant') IS NOT NULL AS there`)).rows[0].there && (await other.query(`SELECT 1 FROM keyward.tenant`)).rows.length > 0;
      // The admin's name goes out only with the users, the event and COMMIT (the tenant's insert is answered before).
      const answer = await Promise.allSettled([losingTheAnswersOnceCommitted('ann-init-lost', made, () => initStore(store, { admin: 'ann-init-lost', tenant: 'init lost' }))]);
      expect(answer[0].status === 'fulfilled' ? answer[0].value : (answer[0].reason as Error).message).toBe(true);
      expect((await other.query(`SELECT id FROM keyward.users`)).rows.map((r) => r.id)).toEqual(['ann-init-lost']);
      // Asked again, it finds the tenant there: nothing is made twice.
      expect(await initStore(store, { admin: 'ann-init-lost' })).toBe(false);
    }));

  it('an init whose schema’s migration committed but lost its answer is made: the migration asked again finds it done — UNAVAILABLE before, the schema there and no tenant', () =>
    onAnEmptyDatabase(async (store, other) => {
      const migrated = async () =>
        (await other.query(`SELECT to_regclass('keyward.migrations') IS NOT NULL AS there`)).rows[0].there &&
        Number((await other.query(`SELECT max(version) AS v FROM keyward.migrations`)).rows[0].v) === SCHEMA_VERSION;
      // The migration's COMMIT goes out alone, as a simple query ending in a zero byte (a procedure's COMMIT; does not).
      const answer = await Promise.allSettled([losingTheAnswersOnceCommitted('COMMIT\u0000', migrated, () => initStore(store, { admin: 'ann-migration-lost' }))]);
      expect(answer[0].status === 'fulfilled' ? answer[0].value : (answer[0].reason as Error).message).toBe(true);
      expect((await other.query(`SELECT id FROM keyward.users`)).rows.map((r) => r.id)).toEqual(['ann-migration-lost']);
    }));

  it('events appended are answered as appended, there once — UNAVAILABLE before', async () => {
    const store = createPostgresStore(db.url);
    const event = newEvent('api-key.auth-failed', Date.now(), 'anonymous', undefined, { count: 1, reasons: { 'append lost': 1 } });
    await losingTheAnswersOnceCommitted('append lost', async () => (await eventsWithId(event.id)) === 1, () => store.append([event]));
    expect(await eventsWithId(event.id)).toBe(1);
    await store.close();
  });

  it('retention’s removal is answered as done: what it removed is gone — UNAVAILABLE before', async () => {
    const store = createPostgresStore(db.url);
    const old = Date.parse('2020-01-01T00:00:00Z');
    await store.append([newEvent('api-key.auth-failed', old, 'anonymous', undefined, { count: 1, reasons: {} })]);
    const before = Date.parse('2021-01-01T00:00:00Z');
    const oldEvents = async () => Number((await admin.query(`SELECT count(*) AS n FROM keyward.events WHERE event_time < $1`, [new Date(before)])).rows[0].n);
    expect(await oldEvents()).toBe(1);
    // A fresh store: its connections send the removal's text (the marker) with its first use.
    const sweeper = createPostgresStore(db.url);
    await losingTheAnswersOnceCommitted('DELETE FROM keyward.events WHERE event_time', async () => (await oldEvents()) === 0, () => sweeper.removeBefore(before));
    expect(await oldEvents()).toBe(0);
    await Promise.all([store.close(), sweeper.close()]);
  });

  it('usage counts with neither a flush’s name nor an event are OUTCOME_UNKNOWN: they were added, and nothing tells — UNAVAILABLE before', async () => {
    const engine = createEngine(createPostgresStore(db.url), { usageFlushMs: 0 });
    const key = await engine.as('bob').generateKey({ description: 'bob copied uses lost' });
    await engine.close();
    const store = createPostgresStore(db.url);
    const minute = Math.floor(Date.now() / 60_000);
    const answer = await Promise.allSettled([
      losingTheAnswersOnceCommitted(key.id, async () => (await usesOf(admin, key.id)) === 3, () => store.recordUsage([{ keyId: key.id, minute, uses: 3, lastUsed: minute * 60_000 }], [])),
    ]);
    expect(answer[0].status === 'rejected' && (answer[0].reason as { code?: string }).code).toBe('OUTCOME_UNKNOWN');
    expect(await usesOf(admin, key.id)).toBe(3);
    await store.close();
  });
});

describe('a store copy into PostgreSQL whose answer was lost once it committed', () => {
  const NOW = Date.now();
  const iso = (ms: number) => new Date(ms).toISOString();
  // A marker no other statement of the copy carries: the uses' last use, sent as a parameter of the usage's statements only.
  const LAST_USED = Math.floor(NOW / 60_000) * 60_000 - 60_000 + 4242;
  async function source(): Promise<MemoryStore> {
    const from = new MemoryStore();
    await from.create({
      tenant: { id: 'copied', name: 'Copied', created: iso(NOW - 86_400_000), settings: { ...DEFAULT_SETTINGS, apiKeysEnabled: true } },
      users: [{ id: 'alice', licence: true, roles: ['TenantAdmin', 'Developer'], created: iso(NOW - 86_400_000) }],
      events: [],
    });
    await from.transact((tx) =>
      tx.putKey({ id: 'c0ffee'.padEnd(24, '0'), description: 'copied key lost answer', owner: 'alice', createdBy: 'alice', created: iso(NOW - 3_600_000), lastUpdated: iso(NOW - 3_600_000), expiry: iso(NOW + 86_400_000), hash: 'c'.repeat(64) }),
    );
    await from.recordUsage([{ keyId: 'c0ffee'.padEnd(24, '0'), minute: Math.floor(LAST_USED / 60_000), uses: 3, lastUsed: LAST_USED }], []);
    return from;
  }
  const copied = async (other: pg.Client) => (await other.query(`SELECT record->>'description' AS d FROM keyward.keys`)).rows.map((r) => r.d);
  const copiedUses = async (other: pg.Client) => Number((await other.query(`SELECT COALESCE(sum(uses), 0) AS n FROM keyward.usage`)).rows[0].n);
  const settled = async (run: () => Promise<unknown>) => {
    const [answer] = await Promise.allSettled([run()]);
    return answer.status === 'fulfilled' ? 'copied' : (answer.reason as { code?: string }).code;
  };

  it('of its keys is answered by whether they are there, as written: copied — OUTCOME_UNKNOWN before', () =>
    onAnEmptyDatabase(async (store, other) => {
      const from = await source();
      const there = async () => (await other.query(`SELECT to_regclass('keyward.keys') IS NOT NULL AS t`)).rows[0].t && (await copied(other)).length === 1;
      expect(await settled(() => losingTheAnswersOnceCommitted('copied key lost answer', there, () => copyStore(from, store)))).toBe('copied');
      expect(await copied(other)).toEqual(['copied key lost answer']);
      expect(await copiedUses(other)).toBe(3);
      await from.close();
    }));

  it('of its usage counts is answered by their flush’s name: copied, the uses there once — OUTCOME_UNKNOWN before', () =>
    onAnEmptyDatabase(async (store, other) => {
      const from = await source();
      const there = async () => (await other.query(`SELECT to_regclass('keyward.usage') IS NOT NULL AS t`)).rows[0].t && (await copiedUses(other)) === 3;
      expect(await settled(() => losingTheAnswersOnceCommitted(String(LAST_USED), there, () => copyStore(from, store)))).toBe('copied');
      expect(await copiedUses(other)).toBe(3);
      await from.close();
    }));
});
