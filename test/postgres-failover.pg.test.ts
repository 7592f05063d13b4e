// A PostgreSQL failover under `keyward serve`, and a database that takes no
// changes. A primary and its real streaming standby (postgres-standby.ts),
// reached through one address that moves between them, as a virtual IP or an
// HAProxy in front of a database pair does (tcp-proxy.ts). The primary goes
// away and the address moves to the standby before it is promoted: Keyward
// refuses to use a standby (its copy may lag, and a revoked key must be
// refused at once), so every request that needs the database is answered 503
// UNAVAILABLE with Retry-After, saying so — never a 500, never a key served
// from the lagging copy. Once the standby is promoted, the server recovers by
// itself within 5 s, and every key it acknowledged before works. This file
// runs PostgreSQL servers of its own, since it stops one.
//
// Then a database turned read-only (default_transaction_read_only, as a
// managed database does when its disk is full): changes are refused 503
// UNAVAILABLE saying it is read-only, reads go on, and once it takes changes
// again the server makes them at once, though its pooled sessions began
// read-only (each is thrown away at its refusal).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PostgresServer, startPostgres } from './support/postgres-server.js';
import { type PostgresStandby, startStandby } from './support/postgres-standby.js';
import { type MovableAddress, movableAddress } from './support/tcp-proxy.js';
import { admin, createTestDatabase } from './support/postgres.js';
import { bootstrap } from './support/flow.js';
import { keyward, refusalOf } from './support/keyward.js';
import { startServe, stopServe } from './support/serve.js';
import { type Answer, call, codeOf } from './support/http.js';

const detailOf = (a: Answer) => (a.body as { errors?: { detail?: string }[] })?.errors?.[0]?.detail ?? '';
/** The reasons a server's request log gives for the requests it could not answer (a client is told only "unavailable"). */
const loggedErrors = (stdout: string): string[] =>
  stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => (JSON.parse(line) as { error?: string }).error)
    .filter((e): e is string => e !== undefined);
/** Waits (5 s at most) until the server's log gives a reason `words` match, and says whether it did. */
async function logs(server: { stdout: () => string }, words: RegExp): Promise<boolean> {
  for (const until = Date.now() + 5000; Date.now() < until; await new Promise((r) => setTimeout(r, 50))) {
    if (loggedErrors(server.stdout()).some((e) => words.test(e))) return true;
  }
  return false;
}
const STANDBY_WORDS = /is a standby server \(read-only, and behind its primary\); Keyward needs the primary/;
const READ_ONLY_WORDS = /takes no changes right now: it answers that it is read-only/;

/** Requests to one server, every status kept (none may be a 500, nor a server gone). */
function asking(server: { url: string }) {
  const statuses: number[] = [];
  const ask = async (path: string, token?: string, method = 'GET', body?: unknown) => {
    const a = await call(`${server.url}${path}`, token, method, body);
    statuses.push(a.status);
    return a;
  };
  return { ask, statuses };
}
type Ask = ReturnType<typeof asking>['ask'];

/** Three keys made through the server (with the bootstrap's, within the default limit of five), their tokens. */
async function threeKeys(ask: Ask, token: string, named: string): Promise<string[]> {
  const made: string[] = [];
  for (let i = 0; i < 3; i++) {
    const a = await ask('/api/v1/api-keys', token, 'POST', { description: `${named} ${i}` });
    expect(a.status).toBe(201);
    made.push((a.body as { token: string }).token);
  }
  return made;
}

/**
 * The health check, once it says 503 (5 s at most): until the server has let go of what it knew (within a
 * second of its change feed's loss), a cached answer may still come.
 */
async function unhealthy(ask: Ask): Promise<Answer> {
  const until = Date.now() + 5000;
  let health: Answer;
  do {
    await new Promise((r) => setTimeout(r, 100));
    health = await ask('/api/v1/health');
  } while (health.status !== 503 && Date.now() < until);
  return health;
}

/** Waits until the server answers its health check and a create again (just promoted: within 5 s, or throws). */
async function recovered(ask: Ask, token: string): Promise<void> {
  const since = Date.now();
  for (;;) {
    const answers = await Promise.all([ask('/api/v1/health'), ask('/api/v1/api-keys', token, 'POST', { description: 'after' })]);
    if (answers.every((a) => a.status === 200 || a.status === 201)) return;
    if (Date.now() - since > 5000) throw new Error(`not recovered 5 s after the promotion: ${answers.map((a) => `${a.status} ${detailOf(a)}`).join('; ')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('a failover behind one address', () => {
  let primary: PostgresServer;
  let standby: PostgresStandby;
  let address: MovableAddress;
  let url: string;
  let tokens: { alice: string; bob: string };

  beforeAll(async () => {
    primary = await startPostgres();
    const db = await createTestDatabase(primary.url);
    standby = await startStandby(primary);
    address = await movableAddress(primary.port);
    url = Object.assign(new URL(db.url), { port: String(address.port) }).toString();
    tokens = bootstrap(url);
  });
  afterAll(async () => {
    await address?.close();
    await standby?.destroy();
    await primary?.destroy();
  });

  it('a standby is refused with 503 and says so; promoted, it is used within 5 s, and nothing acknowledged is lost', async () => {
    const server = await startServe(url);
    const { ask, statuses } = asking(server);
    // Keys made and used through the server while the primary is there.
    const made = await threeKeys(ask, tokens.alice, 'before');
    for (const t of made) expect((await ask('/api/v1/users/me', t)).status).toBe(200);

    // The failover: the primary stops (its last WAL goes to the standby first), the address moves to the standby.
    await primary.stop();
    await address.moveTo(standby.port);
    // From when the server lets go of what it knew, every request that needs the database is a 503 naming the standby.
    const health = await unhealthy(ask);
    expect(health.status).toBe(503);
    expect(health.headers.get('retry-after')).toMatch(/^\d+$/);
    const create = await ask('/api/v1/api-keys', tokens.alice, 'POST', { description: 'on the standby' });
    expect([create.status, codeOf(create)]).toEqual([503, 'UNAVAILABLE']);
    expect(create.headers.get('retry-after')).toMatch(/^\d+$/);
    // The client hears only that the store is unavailable; the server's log says why.
    expect(await logs(server, STANDBY_WORDS), server.stdout()).toBe(true);
    const me = await ask('/api/v1/users/me', made[0]);
    expect([me.status, codeOf(me)]).toEqual([503, 'UNAVAILABLE']);
    // The command line, on the same address: refused the same way, text and --json.
    for (const json of [false, true]) {
      const r = keyward(['keys', 'ls', ...(json ? ['--json'] : [])], { KEYWARD_STORE: url, KEYWARD_USER: 'alice' });
      expect(r.code).toBe(1);
      const refusal = refusalOf(r, json);
      expect(refusal.code).toBe('UNAVAILABLE');
      expect(refusal.message).toMatch(STANDBY_WORDS);
    }

    // Promoted: the same server uses it within 5 s, without a restart.
    await standby.promote();
    await recovered(ask, tokens.bob);
    // Every key acknowledged before the failover works on the new primary.
    for (const t of made) expect((await ask('/api/v1/users/me', t)).status).toBe(200);
    expect(keyward(['keys', 'ls'], { KEYWARD_STORE: url, KEYWARD_USER: 'alice' }).stdout).toContain('before 2');
    // Never a 500, nor a server gone (0).
    expect(statuses.filter((s) => s >= 500 && s !== 503)).toEqual([]);
    expect(statuses).not.toContain(0);
    await stopServe(server.child);
  });
});

describe('a URL naming the primary and its standby', () => {
  let primary: PostgresServer;
  let standby: PostgresStandby;
  let both: string;
  let tokens: { alice: string; bob: string };
  const on = (port: number) => `127.0.0.1:${port}`;

  beforeAll(async () => {
    primary = await startPostgres();
    const db = await createTestDatabase(primary.url);
    standby = await startStandby(primary);
    // libpq's several hosts: the standby first, so the primary is found by passing it over.
    const u = new URL(db.url);
    both = `postgres://${u.username}:${u.password}@${on(standby.port)},${on(primary.port)}${u.pathname}`;
    tokens = bootstrap(both);
  });
  afterAll(async () => {
    await standby?.destroy();
    await primary?.destroy();
  });

  it('uses whichever is the primary: the first, then the standby once promoted, with 503s between and nothing acknowledged lost', async () => {
    const server = await startServe(both);
    const { ask, statuses } = asking(server);
    const made = await threeKeys(ask, tokens.alice, 'pair');
    expect(keyward(['keys', 'ls'], { KEYWARD_STORE: both, KEYWARD_USER: 'alice' }).stdout).toContain('pair 2');

    // The primary goes away: no host of the list is a primary until the standby is promoted.
    await primary.stop();
    const health = await unhealthy(ask);
    expect(health.status).toBe(503);
    const create = await ask('/api/v1/api-keys', tokens.alice, 'POST', { description: 'no primary' });
    expect([create.status, codeOf(create)]).toEqual([503, 'UNAVAILABLE']);
    expect(create.headers.get('retry-after')).toMatch(/^\d+$/);
    const noPrimary = new RegExp(`has no host that is a primary answering now \\(${on(standby.port)}: a standby; ${on(primary.port)}: ECONNREFUSED\\)`);
    expect(await logs(server, noPrimary), server.stdout()).toBe(true);
    const cli = keyward(['keys', 'create', '--description', 'cli, no primary'], { KEYWARD_STORE: both, KEYWARD_USER: 'alice' });
    expect(cli.code).toBe(1);
    expect(refusalOf(cli, false)).toMatchObject({ code: 'UNAVAILABLE', message: expect.stringMatching(noPrimary) });
    // Named with both hosts, without the password.
    expect(cli.stderr).toContain(`postgres://postgres@${on(standby.port)},${on(primary.port)}/`);
    expect(cli.stderr).not.toContain(new URL(primary.url).password);

    await standby.promote();
    await recovered(ask, tokens.bob);
    for (const t of made) expect((await ask('/api/v1/users/me', t)).status).toBe(200);
    expect(statuses.filter((s) => s >= 500 && s !== 503)).toEqual([]);
    expect(statuses).not.toContain(0);
    expect(server.stdout()).not.toContain(new URL(primary.url).password);
    await stopServe(server.child);
  });
});

describe('a database turned read-only', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let tokens: { alice: string; bob: string };

  beforeAll(async () => {
    db = await createTestDatabase();
    tokens = bootstrap(db.url);
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('refuses changes with 503 saying it is read-only, goes on reading, and makes changes again as soon as it takes them', async () => {
    const server = await startServe(db.url);
    expect((await call(`${server.url}/api/v1/api-keys`, tokens.alice, 'POST', { description: 'before' })).status).toBe(201);
    const serverUrl = Object.assign(new URL(db.url), { pathname: '/postgres' }).toString();
    // Read-only for every session from now on: those open end (a managed database restarting read-only).
    await admin(serverUrl, async (c) => {
      await c.query(`ALTER DATABASE ${db.name} SET default_transaction_read_only = on`);
      await c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [db.name]);
    });
    const keysBefore = keyward(['keys', 'ls', '--json'], { KEYWARD_STORE: db.url, KEYWARD_USER: 'alice' });
    expect(keysBefore.code, keysBefore.stderr).toBe(0);

    const refused = await call(`${server.url}/api/v1/api-keys`, tokens.alice, 'POST', { description: 'while read-only' });
    expect([refused.status, codeOf(refused)]).toEqual([503, 'UNAVAILABLE']);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await logs(server, READ_ONLY_WORDS), server.stdout()).toBe(true);
    // Reads go on: a token authenticates, the health check says the server can answer.
    expect((await call(`${server.url}/api/v1/users/me`, tokens.bob)).status).toBe(200);
    expect((await call(`${server.url}/api/v1/health`)).status).toBe(200);
    // The command line: the same refusal, text and --json, and nothing made.
    for (const json of [false, true]) {
      const r = keyward(['keys', 'create', '--description', 'cli while read-only', ...(json ? ['--json'] : [])], { KEYWARD_STORE: db.url, KEYWARD_USER: 'alice' });
      expect(r.code).toBe(1);
      const refusal = refusalOf(r, json);
      expect(refusal.code).toBe('UNAVAILABLE');
      expect(refusal.message).toMatch(READ_ONLY_WORDS);
    }
    expect(keyward(['keys', 'ls', '--json'], { KEYWARD_STORE: db.url, KEYWARD_USER: 'alice' }).stdout).toBe(keysBefore.stdout);

    // Writable again for new sessions only: the server's pooled ones began read-only, and are thrown away as each refuses.
    await admin(serverUrl, (c) => c.query(`ALTER DATABASE ${db.name} RESET default_transaction_read_only`));
    const again = await call(`${server.url}/api/v1/api-keys`, tokens.alice, 'POST', { description: 'writable again' });
    expect(again.status, detailOf(again)).toBe(201);
    await stopServe(server.child);
  });
});
