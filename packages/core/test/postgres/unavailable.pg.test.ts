// sql.ts isUnavailable: what node-postgres throws when the database does not
// answer in time is "cannot be reached or cannot answer now" (behaviour §5's
// UNAVAILABLE), not a mistake in what was asked — the store's pool gives a
// statement 15 s (query_timeout), and one waiting that long on a row lock
// held by a stuck session, or on a database that stopped answering, failed
// with a bare Error without a code: a server answered 500 with
// node-postgres's words instead of UNAVAILABLE, and the transaction's
// connection, its statement still running, went back to the pool.

import { afterAll, beforeAll, expect, it } from 'vitest';
import pg from 'pg';
import { isUnavailable } from '../../src/store/postgres/sql.js';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/postgres.js';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

it('a statement the database does not answer within the query timeout is UNAVAILABLE', async () => {
  const c = new pg.Client({ connectionString: db.url, query_timeout: 200 });
  await c.connect();
  try {
    const e = await c.query('SELECT pg_sleep(2)').then(() => undefined, (x: unknown) => x);
    expect(e).toBeInstanceOf(Error);
    expect(isUnavailable(e)).toBe(true);
  } finally {
    await c.end().catch(() => undefined);
  }
});
