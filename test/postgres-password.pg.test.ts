// A PostgreSQL store named by a URL without its password, the password kept
// where libpq keeps it — PGPASSWORD, or ~/.pgpass (PGPASSFILE) — so it is
// not on a command line, in shell history or in a unit file. Real `keyward`
// processes against the project's real server, each database owned by a
// role of its own (its password changed by one test), with a HOME of its own.

import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { call } from './support/http.js';
import { codeOf, keyward, refusalOf, tempDir } from './support/keyward.js';
import { type TestDatabase, admin, createOwnedTestDatabase } from './support/postgres.js';
import { startServe, stopServe } from './support/serve.js';

let db: TestDatabase & { password: string };
let bare: string;
let home: string;
/** Whether the server asks for a password at all (KEYWARD_TEST_PG_URL may name one that trusts loopback). */
let asks = true;

beforeAll(async () => {
  db = await createOwnedTestDatabase();
  const u = new URL(db.url);
  u.password = '';
  bare = u.toString();
  home = tempDir('keyward-pgpass-');
  const wrong = new URL(db.url);
  wrong.password = 'not-the-password';
  asks = await admin(wrong.toString(), async () => false).catch(() => true);
});
afterAll(async () => {
  await db?.drop();
  rmSync(home, { recursive: true, force: true });
});

/** `keyward` as alice on the password-less URL, HOME this file's own and PGPASSWORD none unless given. */
const run = (args: string[], env: Record<string, string> = {}) => keyward(args, { HOME: home, PGPASSWORD: '', PGPASSFILE: '', KEYWARD_STORE: bare, KEYWARD_USER: 'alice', ...env });

function passwordFile(lines: string[], mode = 0o600): string {
  const path = join(home, '.pgpass');
  writeFileSync(path, lines.join('\n') + '\n');
  chmodSync(path, mode);
  return path;
}

const port = () => new URL(db.url).port;

describe('a PostgreSQL store whose URL holds no password', () => {
  it('without one anywhere: refused, saying where a password may go, naming none, changing nothing', async () => {
    if (!asks) return;
    rmSync(join(home, '.pgpass'), { force: true });
    for (const json of [false, true]) {
      const r = run(['init', '--admin', 'alice', ...(json ? ['--json'] : [])]);
      expect(r.code).toBe(1);
      const said = refusalOf(r, json);
      expect(said.code).toBe('UNAVAILABLE');
      expect(said.message).toMatch(/asks for a password, and none was given: .*PGPASSWORD.*~\/\.pgpass/);
      expect(r.stdout + r.stderr).not.toContain(db.password);
      expect(r.stdout + r.stderr).not.toMatch(/\n\s+at |DeprecationWarning/);
    }
    const schemas = await admin(db.url, (c) => c.query(`SELECT 1 FROM pg_namespace WHERE nspname = 'keyward'`));
    expect(schemas.rowCount).toBe(0);
  });

  it('PGPASSWORD: init and a key made; an empty PGPASSWORD is none', async () => {
    const init = run(['init', '--admin', 'alice'], { PGPASSWORD: db.password });
    expect(init.code, init.stderr).toBe(0);
    for (const args of [['settings', 'set', '--enabled', 'on'], ['users', 'set', 'alice', '--developer', 'on']]) expect(run(args, { PGPASSWORD: db.password }).code).toBe(0);
    const made = run(['keys', 'create', '--description', 'by PGPASSWORD'], { PGPASSWORD: db.password });
    expect(made.code, made.stderr).toBe(0);
    expect(made.stdout + made.stderr).not.toContain(db.password);
    if (asks) expect(codeOf(run(['keys', 'ls'], { PGPASSWORD: '' }))).toBe('UNAVAILABLE');
  });

  it('~/.pgpass as libpq reads it: the first line that matches (wildcards, escapes, comments); one others may read is not read, and the refusal says why', async () => {
    const { name } = db;
    passwordFile([
      '# another database first, then this one by wildcards',
      `127.0.0.1:${port()}:postgres:${name}:not-this-one`,
      `*:${port()}:${name}:*:${db.password.replace(/-/g, '\\-')}`,
      `*:*:*:*:not-this-one-either`,
    ]);
    const ls = run(['keys', 'ls']);
    expect(ls.code, ls.stderr).toBe(0);
    expect(ls.stdout).toContain('by PGPASSWORD');
    expect(ls.stderr).toBe('');
    // PGPASSFILE names another file; HOME's is not read then.
    const elsewhere = join(home, 'elsewhere.pgpass');
    writeFileSync(elsewhere, `*:*:*:${name}:${db.password}\n`, { mode: 0o600 });
    passwordFile(['*:*:*:*:wrong']);
    expect(run(['keys', 'ls'], { PGPASSFILE: elsewhere }).code).toBe(0);
    if (!asks) return;
    passwordFile([`*:*:*:*:${db.password}`], 0o644);
    const open = run(['keys', 'ls']);
    expect([open.code, codeOf(open)]).toEqual([1, 'UNAVAILABLE']);
    expect(open.stderr).toContain(`${join(home, '.pgpass')} was not read: others may read it; chmod 600 it`);
    expect(open.stderr).not.toContain(db.password);
  });

  it('keyward serve on it: its pool and its change feed sign in from ~/.pgpass, no warning printed, and a changed password is read again by the connections it opens after', async () => {
    passwordFile([`*:*:*:${db.name}:${db.password}`]);
    const made = JSON.parse(run(['keys', 'create', '--description', 'served', '--json']).stdout) as { id: string; token: string };
    const serve = await startServe(bare, [], { HOME: home, PGPASSWORD: '', PGPASSFILE: '' });
    let stderr = '';
    serve.child.stderr!.on('data', (d: Buffer) => (stderr += d));
    try {
      expect((await call(`${serve.url}/api/v1/users/me`, made.token)).status).toBe(200);
      // The password changed in the database and in the file, then every connection of the server's ended.
      const next = `${db.password}-next`;
      await admin(inject('postgresUrl'), (c) => c.query(`ALTER ROLE ${db.name} PASSWORD '${next}'`));
      passwordFile([`*:*:*:${db.name}:${next}`]);
      const listeners = () =>
        admin(inject('postgresUrl'), (c) => c.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = 'keyward-listen'`, [db.name])).then((r) => r.rows.map((row) => row.pid));
      const before = await listeners();
      expect(before.length).toBeGreaterThan(0);
      await admin(inject('postgresUrl'), (c) => c.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name IN ('keyward', 'keyward-listen')`, [db.name]));
      // Its change feed signs in again (bounded by the test's timeout: with the old password, never).
      for (let now = await listeners(); now.length === 0 || now.some((pid) => before.includes(pid)); now = await listeners()) await new Promise((r) => setTimeout(r, 100));
      // A revoke through the command (the new password) is heard: the change feed signed in again.
      const revoked = run(['keys', 'revoke', made.id]);
      expect(revoked.code, revoked.stderr).toBe(0);
      for (let a = await call(`${serve.url}/api/v1/users/me`, made.token); a.status !== 401; a = await call(`${serve.url}/api/v1/users/me`, made.token)) {
        expect([200, 503]).toContain(a.status);
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(stderr).not.toMatch(/warning/i);
      expect(serve.stdout() + stderr).not.toContain(db.password);
    } finally {
      await stopServe(serve.child);
      await admin(inject('postgresUrl'), (c) => c.query(`ALTER ROLE ${db.name} PASSWORD '${db.password}'`)).catch(() => undefined);
    }
  });
});
