// Creates sent whole that queue behind one statement of their server go in
// the next one together (store/postgres/whole-batches.ts): one transaction,
// one NOTIFY naming every key it made, each create still answered on its own
// with its own key, token and event. A statement held at a lock does not hold
// the others back. And when one of them was decided on a count another
// server changed since, the statement writes nothing and each goes again
// alone: the others are made, that one is answered the locking way.

import { afterAll, beforeAll, expect, it } from 'vitest';
import pg from 'pg';
import { createEngine } from '../../src/engine.js';
import { createPostgresStore } from '../../src/store/postgres/store.js';
import { CHANNEL } from '../../src/store/postgres/changes.js';
import type { TestDatabase } from '../../../../test/support/postgres.js';
import { expectMadeOnce as madeOnce, holdingTheRowOf, seededDatabase, waitingAtLocks } from './seeded-database.js';

let db: TestDatabase;
let admin: pg.Client;
let drop: () => Promise<void>;
beforeAll(async () => void ({ db, admin, drop } = await seededDatabase()));
afterAll(() => drop());

type Engine = ReturnType<typeof createEngine>;

/** Another session holding bob's row (BEGIN, FOR UPDATE): a create for bob waits at its lock until it ends. */
const holdingBobsRow = () => holdingTheRowOf(db.url, 'bob');

/** Until a statement of this database waits for a lock (the create for bob, at his row). */
async function untilWaitingAtALock(): Promise<void> {
  await expect.poll(() => waitingAtLocks(admin), { timeout: 5000 }).toBe(1);
}

/** The payloads of the notifications sent while `run` runs (a notification committed before a query's answer arrives before it). */
async function notificationsOf(run: () => Promise<void>): Promise<{ keyIds?: string[]; made?: { id: string }[] }[]> {
  const listener = new pg.Client(db.url);
  await listener.connect();
  const heard: string[] = [];
  listener.on('notification', (n) => heard.push(n.payload ?? ''));
  await listener.query(`LISTEN ${CHANNEL}`);
  try {
    await run();
    await listener.query('SELECT 1');
  } finally {
    await listener.end();
  }
  return heard.map((p) => (JSON.parse(p) as { c: { keyIds?: string[]; made?: { id: string }[] } }).c);
}

/** The key is the only one under its description, with its one event, and `engine` accepts its token. */
const expectMadeOnce = (engine: Engine, key: { id: string; token: string; description: string }) => madeOnce(admin, engine, key.description, key);

it('creates for different users asked at once: the first goes alone, the others queue behind it and go in one statement, one NOTIFY naming their keys, each answered with its own', async () => {
  const engine = createEngine(createPostgresStore(db.url), { usageFlushMs: 0 });
  try {
    // Seen once each (the settings, the users, their counts): what the creates below are decided on.
    for (const who of ['alice', 'bob', 'carol']) await engine.as(who).generateKey({ description: `${who} seen` });
    let answers: Awaited<ReturnType<ReturnType<Engine['as']>['generateKey']>>[] = [];
    const heard = await notificationsOf(async () => {
      answers = await Promise.all(['alice', 'bob', 'carol'].map((who) => engine.as(who).generateKey({ description: `${who} at once` })));
    });
    expect(answers.map((k) => [k.sub, k.description])).toEqual(['alice', 'bob', 'carol'].map((who) => [who, `${who} at once`]));
    expect(new Set(answers.map((k) => k.token)).size).toBe(3);
    for (const k of answers) await expectMadeOnce(engine, k);
    // Two statements: the first create's, then one for the two that queued behind it.
    expect(heard.map((c) => c.keyIds?.length)).toEqual([1, 2]);
    expect(heard.flatMap((c) => c.keyIds).sort()).toEqual(answers.map((k) => k.id).sort());
    expect(heard[1].made?.map((k) => k.id)).toEqual(heard[1].keyIds);
  } finally {
    await engine.close();
  }
});

it('a create waiting at a lock another session holds does not hold back other users’ creates on its server', async () => {
  const engine = createEngine(createPostgresStore(db.url), { usageFlushMs: 0 });
  try {
    for (const who of ['alice', 'bob']) await engine.as(who).generateKey({ description: `${who} seen before a lock` });
    const holder = await holdingBobsRow();
    const bobs = engine.as('bob').generateKey({ description: 'bob behind a lock' });
    await untilWaitingAtALock();
    // Made while bob's row is still held.
    const alice = await engine.as('alice').generateKey({ description: 'alice beside a lock' });
    await expectMadeOnce(engine, alice);
    await holder.query('COMMIT');
    await holder.end();
    await expectMadeOnce(engine, await bobs);
  } finally {
    await engine.close();
  }
});

it('a statement of queued creates, one decided on a count another server changed since: nothing of it is written, the others are made alone, that one is refused the locking way', async () => {
  // Two one-shot servers: neither listens, so neither hears the other's creates.
  const [here, there] = [createEngine(createPostgresStore(db.url), { usageFlushMs: 0 }), createEngine(createPostgresStore(db.url), { usageFlushMs: 0 })];
  try {
    await admin.query(`DELETE FROM keyward.keys WHERE owner IN ('alice', 'bob', 'carol')`);
    await admin.query(`DELETE FROM keyward.events WHERE user_id = 'carol'`);
    await here.as('alice').updateSettings({ max_keys_per_user: 3 });
    // Here sees alice, bob and carol with one key each (as it left them)...
    for (const who of ['alice', 'bob', 'carol']) await here.as(who).generateKey({ description: `${who} seen here` });
    // ...then there makes carol's second and third: her limit, reached behind here's back.
    for (const n of [2, 3]) await there.as('carol').generateKey({ description: `carol ${n}` });
    const holder = await holdingBobsRow();
    const bobs = here.as('bob').generateKey({ description: 'bob waits' });
    // Asked while bob's statement is just out: they queue behind it, then go (together) while it still waits.
    await new Promise((r) => setTimeout(r, 5));
    const alices = here.as('alice').generateKey({ description: 'alice queued beside a stale count' });
    const carols = here.as('carol').generateKey({ description: 'carol 4' }).catch((e: unknown) => e);
    const [alice, refusal] = await Promise.all([alices, carols]);
    await untilWaitingAtALock();
    await holder.query('COMMIT');
    await holder.end();
    const bob = await bobs;
    expect(refusal).toMatchObject({ code: 'KEY_LIMIT_REACHED' });
    await expectMadeOnce(here, bob);
    await expectMadeOnce(here, alice);
    const carolsKeys = await admin.query<{ description: string }>(`SELECT description FROM keyward.keys WHERE owner = 'carol' ORDER BY description`);
    expect(carolsKeys.rows.map((r) => r.description)).toEqual(['carol 2', 'carol 3', 'carol seen here']);
    const events = await admin.query(`SELECT key_id FROM keyward.events WHERE event_type = 'api-key.generated' AND user_id = 'carol'`);
    expect(events.rows).toHaveLength(3);
  } finally {
    await here.as('alice').updateSettings({ max_keys_per_user: 1000 });
    await Promise.all([here.close(), there.close()]);
  }
});
