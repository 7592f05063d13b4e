// sql.ts prepared(): statements with parameters go to PostgreSQL as named
// statements, parsed once per connection; the same text always has the same
// name on every connection — a name that begins with its text's digest, so
// it means that text in every process — and statements without parameters
// go as they are.

import { createHash } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import pg from 'pg';
import { isRetryable, prepared } from '../../src/store/postgres/sql.js';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/postgres.js';

let db: TestDatabase;
const clients: pg.Client[] = [];

async function connect(): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  clients.push(c);
  return c;
}

/** The statements this session has prepared, by text. */
async function preparedOn(c: pg.Client): Promise<Map<string, string>> {
  const r = await c.query<{ name: string; statement: string }>('SELECT name, statement FROM pg_prepared_statements');
  return new Map(r.rows.map((row) => [row.statement, row.name]));
}

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.end()));
  await db.drop();
});

it('parses a statement with parameters once per connection, under one name for its text on every connection', async () => {
  const [a, b] = [await connect(), await connect()];
  const double = 'SELECT $1::int * 2 AS n';
  const triple = 'SELECT $1::int * 3 AS n';
  const sqlA = prepared(a, { askAgain: true });
  expect((await sqlA.query<{ n: number }>(double, [4])).rows[0].n).toBe(8);
  expect((await sqlA.query<{ n: number }>(double, [5])).rows[0].n).toBe(10);
  expect((await sqlA.query<{ n: number }>(triple, [5])).rows[0].n).toBe(15);
  await sqlA.query('SELECT 1');
  const onA = await preparedOn(a);
  expect([...onA.keys()].sort()).toEqual([double, triple]);
  expect(onA.get(double)).not.toBe(onA.get(triple));
  expect((await prepared(b, { askAgain: true }).query<{ n: number }>(triple, [7])).rows[0].n).toBe(21);
  expect((await preparedOn(b)).get(triple)).toBe(onA.get(triple));
  // Named by its text's digest, not by the order this process first sent it in: another process, of any version,
  // that prepared a statement of this name on a session a pooler shares prepared this text.
  for (const text of [double, triple]) expect(onA.get(text)).toMatch(new RegExp(`^keyward_${createHash('sha256').update(text).digest('hex').slice(0, 24)}_\\d+$`));
});

it('sends statements inside a transaction as prepared too, and a failing one fails as before', async () => {
  const c = await connect();
  const sql = prepared(c, { askAgain: false });
  await c.query('BEGIN');
  await expect(sql.query('SELECT 1 / $1::int AS n', [0])).rejects.toMatchObject({ code: '22012' });
  await c.query('ROLLBACK');
  expect((await sql.query<{ n: number }>('SELECT 1 / $1::int AS n', [1])).rows[0].n).toBe(1);
  expect([...(await preparedOn(c)).keys()]).toEqual(['SELECT 1 / $1::int AS n']);
});

it('answers again after a migration changed what a prepared statement returns: the text gets a new name, prepared afresh', async () => {
  const c = await connect();
  await c.query('CREATE TABLE migrated (id int PRIMARY KEY, v int)');
  await c.query('INSERT INTO migrated VALUES (1, 7)');
  const read = 'SELECT v FROM migrated WHERE id = $1';
  const sql = prepared(c, { askAgain: true });
  expect((await sql.query<{ v: unknown }>(read, [1])).rows[0].v).toBe(7);
  // Another server's migration: PostgreSQL refuses the statement prepared before it ("cached plan must not change result type").
  const other = await connect();
  await other.query('ALTER TABLE migrated ALTER COLUMN v TYPE text');
  expect((await sql.query<{ v: unknown }>(read, [1])).rows[0].v).toBe('7');
  expect((await sql.query<{ v: unknown }>(read, [1])).rows[0].v).toBe('7');
  // Inside a transaction the statement cannot be asked again (the transaction is aborted): the transaction can run again.
  const t = await connect();
  const inTx = prepared(t, { askAgain: false });
  await inTx.query(read, [1]);
  await other.query('ALTER TABLE migrated ALTER COLUMN v TYPE int USING v::int');
  await t.query('BEGIN');
  const e = await inTx.query(read, [1]).then(() => undefined, (x: unknown) => x);
  await t.query('ROLLBACK');
  expect(isRetryable(e)).toBe(true);
  expect((await inTx.query<{ v: unknown }>(read, [1])).rows[0].v).toBe(7);
});
