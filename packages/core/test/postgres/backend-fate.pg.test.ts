// backend-fate.ts: a lost connection's backend is ended only on the server
// it ran on. After a failover or a restart the same pid may be another
// Keyward server's live backend; ending it would cut off that server's work
// for a backend that is not there at all. Behind a pooler (PgBouncer), the
// backend is the one the pooler gave the connection, which the connection
// asks for: the pid of the session's start is one the pooler made up.

import { afterAll, beforeAll, expect, it } from 'vitest';
import pg from 'pg';
import { APPLICATION, type AskPool, seenGone } from '../../src/store/postgres/backend-fate.js';
import { KeywardClient } from '../../src/store/postgres/keyward-client.js';
import { SHARED_SESSION, isUnavailable, unavailable } from '../../src/store/postgres/sql.js';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/postgres.js';
import { PGBOUNCER, PGBOUNCER_MISSING, startPgBouncer } from '../../../../test/support/pgbouncer.js';
import { skippedWhereMissing } from '../../../../test/support/needed-here.js';

let db: TestDatabase;
let pool: pg.Pool;
let ask: AskPool;
let started: string;

beforeAll(async () => {
  db = await createTestDatabase();
  pool = new pg.Pool({ connectionString: db.url, max: 2 });
  ask = (text, values) => pool.query<{ alive: boolean }>(text, values);
  started = (await pool.query<{ s: string }>('SELECT pg_postmaster_start_time()::text AS s')).rows[0].s;
});
afterAll(async () => {
  await pool.end();
  await db.drop();
});

/** A live backend named as Keyward's are, busy with nothing: what a same pid on another server would be. */
async function keywardBackend(): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: db.url, application_name: APPLICATION });
  c.on('error', () => undefined);
  await c.connect();
  return c;
}

const answers = (c: pg.Client) =>
  c.query('SELECT 1').then(
    () => true,
    () => false,
  );

it('takes a backend of another server (or of this one before a restart) as gone, and ends nothing here', async () => {
  const bystander = await keywardBackend();
  try {
    const pid = (bystander as unknown as { processID: number }).processID;
    expect(await seenGone(ask, { pid, server: '2000-01-01 00:00:00+00' })).toBe(true);
    expect(await answers(bystander)).toBe(true);
  } finally {
    await bystander.end().catch(() => undefined);
  }
});

it('ends a live backend of the server it ran on, and sees it gone', async () => {
  const lost = await keywardBackend();
  const pid = (lost as unknown as { processID: number }).processID;
  expect(await seenGone(ask, { pid, server: started })).toBe(true);
  expect(await answers(lost)).toBe(false);
  const left = await pool.query('SELECT FROM pg_stat_activity WHERE pid = $1', [pid]);
  expect(left.rowCount).toBe(0);
});

it('ends a live backend whose server is not known, as before connections noted it', async () => {
  const lost = await keywardBackend();
  const pid = (lost as unknown as { processID: number }).processID;
  expect(await seenGone(ask, { pid })).toBe(true);
  expect(await answers(lost)).toBe(false);
});

it("ends no backend of another application, and does not take it as gone", async () => {
  const other = new pg.Client({ connectionString: db.url, application_name: 'psql' });
  await other.connect();
  try {
    const pid = (other as unknown as { processID: number }).processID;
    expect(await seenGone(ask, { pid, server: started })).toBe(false);
    expect(await answers(other)).toBe(true);
  } finally {
    await other.end();
  }
}, 10_000);

it('a pool connection notes the server and the backend it reached, as the backend says; others do not ask', async () => {
  const noting = new KeywardClient({ connectionString: db.url, knowsItsServer: true });
  const plain = new KeywardClient({ connectionString: db.url });
  await Promise.all([noting.connect(), plain.connect()]);
  try {
    expect(noting.server).toBe(started);
    expect(noting.backendPid).toBe((await noting.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid);
    expect(plain.server).toBeUndefined();
    expect(plain.backendPid).toBeUndefined();
  } finally {
    await Promise.all([noting.end(), plain.end()]);
  }
});

it.skipIf(skippedWhereMissing(!PGBOUNCER))(`through PgBouncer, a pool connection knows the backend it was given, and a lost one's is ended where it runs${PGBOUNCER ? '' : PGBOUNCER_MISSING}`, async () => {
  const bouncer = await startPgBouncer(db, 'session', 5);
  const c = new KeywardClient({ connectionString: bouncer.url, knowsItsServer: true, application_name: APPLICATION });
  c.on('error', () => undefined);
  try {
    await c.connect();
    const real = (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    // PgBouncer's BackendKeyData names no backend: a look for it would find nothing, "gone" at once.
    expect((c as unknown as { processID: number }).processID).not.toBe(real);
    expect([c.backendPid, c.server]).toEqual([real, started]);
    expect(await seenGone(ask, { pid: c.backendPid!, server: c.server })).toBe(true);
    expect(await answers(c)).toBe(false);
  } finally {
    await c.end().catch(() => undefined);
    bouncer.stop();
  }
}, 15_000);

it.skipIf(skippedWhereMissing(!PGBOUNCER))(`a pool connection given a backend another of this process's has open — a pooler sharing sessions — is refused, UNAVAILABLE, naming the pooler's mode${PGBOUNCER ? '' : PGBOUNCER_MISSING}`, async () => {
  // One server connection for every client, in transaction mode: both connections are given it.
  const bouncer = await startPgBouncer(db, 'transaction', 1);
  const [first, second] = [0, 1].map(() => new KeywardClient({ connectionString: bouncer.url, knowsItsServer: true }));
  second.on('error', () => undefined);
  try {
    await first.connect();
    const refused = await second.connect().then(() => undefined, (e: unknown) => e);
    expect(refused).toMatchObject({ code: SHARED_SESSION });
    expect(isUnavailable(refused)).toBe(true);
    expect(unavailable('the store', refused).message).toMatch(/connection pooler that shares database sessions .*pool_mode=session/);
    // Once the first has closed, a connection is given that backend as its own.
    await first.end();
    const third = new KeywardClient({ connectionString: bouncer.url, knowsItsServer: true });
    await third.connect();
    expect(third.backendPid).toBe(first.backendPid);
    await third.end();
  } finally {
    await Promise.all([first, second].map((c) => c.end().catch(() => undefined)));
    bouncer.stop();
  }
}, 15_000);
