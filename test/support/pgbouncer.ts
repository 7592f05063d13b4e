// A real PgBouncer (Debian's pgbouncer) in front of a test database, as a
// team that pools its database connections would put one: for the tests of
// Keyward behind a pooler (test/pgbouncer.pg.test.ts, backend-fate.pg.test.ts).

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestDatabase } from './postgres.js';
import { freePort } from './free-port.js';

/** The pgbouncer program, where it is installed (apt-get install pgbouncer; .ci/run installs it). */
export const PGBOUNCER = ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer'].find((p) => {
  try {
    execFileSync(p, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
});

/** What a test's title says when PGBOUNCER is missing. */
export const PGBOUNCER_MISSING = ' (pgbouncer is not installed: apt-get install pgbouncer)';

/** The uid and gid PgBouncer runs as: it refuses to run as root, so as root the `postgres` user's (or nobody's). */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  for (const user of ['postgres', 'nobody']) {
    try {
      const [uid, gid] = ['-u', '-g'].map((flag) => Number(execFileSync('id', [flag, user], { encoding: 'utf8' }).trim()));
      return { uid, gid };
    } catch {
      // No such user: the next.
    }
  }
  throw new Error('running as root with neither a postgres nor a nobody user for PgBouncer to run as');
}

/** Resolves once something listens on `port` (PgBouncer, started). */
async function listening(port: number, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`pgbouncer exited with ${child.exitCode}`);
    const up = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => s.end(() => resolve(true)));
      s.on('error', () => resolve(false));
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`pgbouncer did not listen on ${port}`);
}

export type PoolMode = 'session' | 'transaction' | 'statement';

/**
 * A PgBouncer in `mode` in front of the database `db` names, with `poolSize`
 * server connections at most: the URL that reaches it, as the database's
 * own user (PgBouncer trusts its clients here and signs in to PostgreSQL
 * with the password of its configuration), and how to stop it.
 */
export async function startPgBouncer(db: TestDatabase, mode: PoolMode, poolSize: number): Promise<{ url: string; stop(): void }> {
  if (!PGBOUNCER) throw new Error(`pgbouncer is not installed${PGBOUNCER_MISSING}`);
  const server = new URL(db.url);
  const [user, password] = [decodeURIComponent(server.username), decodeURIComponent(server.password)];
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'keyward-pgbouncer-'));
  const ini = [
    '[databases]',
    `${db.name} = host=${server.hostname} port=${server.port} dbname=${db.name} user=${user} password=${password}`,
    '[pgbouncer]',
    'listen_addr = 127.0.0.1',
    `listen_port = ${port}`,
    `unix_socket_dir = ${dir}`,
    'auth_type = trust',
    `auth_file = ${join(dir, 'users.txt')}`,
    `pool_mode = ${mode}`,
    `default_pool_size = ${poolSize}`,
    'max_client_conn = 200',
    `logfile = ${join(dir, 'pgbouncer.log')}`,
  ].join('\n');
  writeFileSync(join(dir, 'pgbouncer.ini'), `${ini}\n`);
  writeFileSync(join(dir, 'users.txt'), `"${user}" ""\n`);
  const as = runAs();
  if (as) for (const f of ['', 'pgbouncer.ini', 'users.txt']) chownSync(join(dir, f), as.uid, as.gid);
  const child = spawn(PGBOUNCER, [join(dir, 'pgbouncer.ini')], { stdio: 'ignore', ...(as ?? {}) });
  const stop = () => {
    child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await listening(port, child);
  } catch (e) {
    stop();
    throw e;
  }
  const url = new URL(db.url);
  url.port = String(port);
  url.searchParams.set('sslmode', 'disable');
  return { url: url.toString(), stop };
}
