// Keyward behind PgBouncer — a real one, Debian's pgbouncer — as a team that
// pools its database connections would put it. In session mode each client
// connection is a session of its own, and the seed flow runs as on the
// database itself. In transaction mode clients share sessions: a statement
// that reaches a session another client prepared its statements on is
// refused, UNAVAILABLE, naming the pooler's mode and what to do — never run
// as another client's statement of the same name — and nothing is changed;
// so is a transaction in statement mode, which PgBouncer ends at its BEGIN.
// (backend-fate.pg.test.ts: through it, a connection knows its real backend.)

import type { ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { bootstrap } from './support/flow.js';
import { call } from './support/http.js';
import { skippedWhereMissing } from './support/needed-here.js';
import { keyward } from './support/keyward.js';
import { PGBOUNCER, PGBOUNCER_MISSING, type PoolMode, startPgBouncer } from './support/pgbouncer.js';
import { admin, createTestDatabase, type TestDatabase } from './support/postgres.js';
import { startServe } from './support/serve.js';

const dbs: TestDatabase[] = [];
const bouncers: (() => void)[] = [];
const servers: ChildProcess[] = [];
afterAll(async () => {
  for (const s of servers) s.kill('SIGTERM');
  for (const stop of bouncers) stop();
  for (const d of dbs) await d.drop();
});

/** A PgBouncer in `mode` in front of `db` (test/support/pgbouncer.ts), stopped after the file: the URL that reaches it. */
async function pgbouncer(db: TestDatabase, mode: PoolMode, poolSize: number): Promise<string> {
  const b = await startPgBouncer(db, mode, poolSize);
  bouncers.push(b.stop);
  return b.url;
}

async function database(): Promise<TestDatabase> {
  const d = await createTestDatabase();
  dbs.push(d);
  return d;
}

const keyCount = (url: string) => admin(url, async (c) => Number((await c.query('SELECT count(*) AS n FROM keyward.keys')).rows[0].n));

const SHARED = /is reached through a connection pooler that shares database sessions between its clients \(PgBouncer's pool_mode=transaction or statement\).*pool_mode=session.*nothing was changed\. \(UNAVAILABLE\)\n$/s;

describe.skipIf(skippedWhereMissing(!PGBOUNCER))(`keyward behind PgBouncer${PGBOUNCER ? '' : PGBOUNCER_MISSING}`, () => {
  it('in session mode, the seed flow runs through it: every connection is a session of its own', async () => {
    const db = await database();
    const pooled = await pgbouncer(db, 'session', 20);
    const { alice } = bootstrap(pooled);
    for (let i = 0; i < 3; i++) {
      const ls = keyward(['keys', 'ls'], { KEYWARD_STORE: pooled, KEYWARD_USER: 'alice' });
      expect(ls.code, ls.stderr).toBe(0);
      expect(ls.stdout).toContain('alice bootstrap');
    }
    const verified = keyward(['keys', 'verify', alice], { KEYWARD_STORE: pooled, KEYWARD_USER: 'nobody' });
    expect(verified.code, verified.stderr).toBe(0);
    expect(await keyCount(db.url)).toBe(2);
  });

  it('in session mode, two `keyward serve` through it refuse a key deleted through either within a second, as on the database itself', async () => {
    const db = await database();
    const { alice } = bootstrap(db.url);
    // Each server's pool (10) and change feed (1), on sessions of their own.
    const pooled = await pgbouncer(db, 'session', 30);
    const both = await Promise.all([startServe(pooled), startServe(pooled)]);
    servers.push(...both.map((s) => s.child));
    for (let round = 0; round < 4; round++) {
      const via = both[round % 2];
      const created = await call(`${via.url}/api/v1/api-keys`, alice, 'POST', { description: `revoke me ${round}` });
      expect(created.status).toBe(201);
      const { id, token } = created.body as { id: string; token: string };
      for (const s of both) expect((await call(`${s.url}/api/v1/users/me`, token)).status).toBe(200);
      expect((await call(`${via.url}/api/v1/api-keys/${id}`, alice, 'DELETE')).status).toBe(204);
      const at = Date.now();
      await Promise.all(
        both.map(async (s) => {
          for (;;) {
            const a = await call(`${s.url}/api/v1/users/me`, token);
            // Refused: 401, or 429 once this address has failed too often (the server's throttle).
            if (a.status === 401 || a.status === 429) return;
            expect(a.status).toBe(200);
            if (Date.now() - at > 1000) throw new Error(`${s.url} still accepts a deleted key after 1 s`);
          }
        }),
      );
    }
  });

  it('in transaction mode, a statement reaching a session another client prepared on is refused, UNAVAILABLE, saying why — and nothing is changed', async () => {
    const db = await database();
    bootstrap(db.url);
    // One server connection for every client: the second `keyward` (or the first one's second
    // connection) reaches the session the first prepared its statements on.
    const pooled = await pgbouncer(db, 'transaction', 1);
    const env = { KEYWARD_STORE: pooled, KEYWARD_USER: 'alice' };
    const runs = [keyward(['keys', 'ls'], env), keyward(['keys', 'ls'], env), keyward(['keys', 'ls'], env)];
    for (const r of runs) {
      if (r.code === 0) expect(r.stdout).toContain('alice bootstrap');
      else {
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(SHARED);
      }
    }
    expect(runs.some((r) => r.code === 1)).toBe(true);

    const before = await keyCount(db.url);
    const creates = [keyward(['keys', 'create', '--description', 'through the pooler'], env), keyward(['keys', 'create', '--description', 'through the pooler'], env)];
    for (const r of creates) if (r.code !== 0) expect(r.stderr).toMatch(SHARED);
    // Each create refused changed nothing; each made is there, its token verifying on the database itself.
    const made = creates.filter((r) => r.code === 0);
    expect(await keyCount(db.url)).toBe(before + made.length);
    for (const r of made) {
      const v = keyward(['keys', 'verify', r.stdout.trim()], { KEYWARD_STORE: db.url, KEYWARD_USER: 'nobody' });
      expect(v.code, v.stderr).toBe(0);
    }
  });

  it('in statement mode, a change in a transaction is refused, UNAVAILABLE, saying why — not "cannot be reached, try again" — and nothing is changed', async () => {
    const db = await database();
    const { alice } = bootstrap(db.url);
    const pooled = await pgbouncer(db, 'statement', 5);
    const id = await admin(db.url, async (c) => (await c.query<{ id: string }>(`SELECT id FROM keyward.keys WHERE description = 'alice bootstrap'`)).rows[0].id);
    // PgBouncer ends the connection at the transaction's BEGIN, saying it takes no transaction blocks.
    const revoke = keyward(['keys', 'revoke', id, '--yes'], { KEYWARD_STORE: pooled, KEYWARD_USER: 'alice' });
    expect(revoke.code).toBe(1);
    expect(revoke.stderr).toMatch(SHARED);
    const v = keyward(['keys', 'verify', alice], { KEYWARD_STORE: db.url, KEYWARD_USER: 'nobody' });
    expect(v.code, v.stderr).toBe(0);
  });
});
