// `keyward serve --db-connections N`: a server on PostgreSQL holds at most N
// connections in its pool (and the change feed's one), however much load it
// takes, so that servers × N fits the database's max_connections. Counted in
// pg_stat_activity while 60 requests at once (creates, lists, reads) go
// through it; every one of them is answered.

import { inject } from 'vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, createTestDatabase, type TestDatabase } from './support/postgres.js';
import { bootstrap } from './support/flow.js';
import { codeOf as cliCodeOf, keyward } from './support/keyward.js';
import { startServe } from './support/serve.js';
import { call } from './support/http.js';

let db: TestDatabase;
let tokens: { alice: string; bob: string };

beforeAll(async () => {
  db = await createTestDatabase();
  tokens = bootstrap(db.url);
  expect(keyward(['settings', 'set', '--max-keys', '1000'], { KEYWARD_STORE: db.url, KEYWARD_USER: 'alice' }).code).toBe(0);
});
afterAll(() => db?.drop());

/** The most backends of this database each application name had at once while `during` ran, looked at every 5 ms. */
async function mostBackends(during: Promise<unknown>): Promise<Record<string, number>> {
  const most: Record<string, number> = {};
  let done = false;
  void during.finally(() => (done = true));
  await admin(inject('postgresUrl'), async (c) => {
    while (!done) {
      const r = await c.query<{ application_name: string; n: number }>('SELECT application_name, count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 GROUP BY 1', [db.name]);
      for (const row of r.rows) most[row.application_name] = Math.max(most[row.application_name] ?? 0, row.n);
      await new Promise((r) => setTimeout(r, 5));
    }
  });
  await during;
  return most;
}

describe('keyward serve --db-connections', () => {
  it('holds at most N connections to the database under load, and answers every request', async () => {
    const server = await startServe(db.url, ['--db-connections', '3']);
    const load = Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        i % 3 === 0
          ? call(`${server.url}/api/v1/api-keys`, tokens.bob, 'POST', { description: `pool ${i}` })
          : i % 3 === 1
            ? call(`${server.url}/api/v1/api-keys?limit=5&sort=-description`, tokens.alice)
            : call(`${server.url}/api/v1/api-keys/usage`, tokens.alice),
      ),
    );
    const most = await mostBackends(load);
    const answers = await load;
    expect(answers.map((a) => a.status).filter((s) => s !== 200 && s !== 201)).toEqual([]);
    // The pool ('keyward') grew to its bound and no further; the change feed is its own one connection.
    expect(most.keyward).toBe(3);
    expect(most['keyward-listen']).toBe(1);
    server.child.kill('SIGTERM');
  });

  it('refuses a number out of range, and a JSON store, before it listens', () => {
    for (const n of ['1', '0', '1001', 'ten', '-3']) {
      const r = keyward(['serve', '--port', '0', '--db-connections', n], { KEYWARD_STORE: db.url, KEYWARD_USER: 'alice' });
      expect([r.code, cliCodeOf(r)], r.stderr).toEqual([1, 'INVALID_INPUT']);
      expect(r.stderr).toContain('--db-connections takes a whole number from 2 to 1000');
    }
    const json = keyward(['serve', '--port', '0', '--db-connections', '4'], { KEYWARD_STORE: '/nonexistent/keyward.json', KEYWARD_USER: 'alice' });
    expect([json.code, cliCodeOf(json)], json.stderr).toEqual([1, 'INVALID_INPUT']);
    expect(json.stderr).toContain('--db-connections is for a PostgreSQL store');
  });
});
