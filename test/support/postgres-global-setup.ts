// Vitest global setup of the `postgres` project: one PostgreSQL server for
// every test file that needs one (each file makes its own database in it, so
// files run in parallel). KEYWARD_TEST_PG_URL names an existing server
// instead (a superuser URL on its maintenance database).
//
// The server runs in a child process of its own (postgres-process.ts).

import type { TestProject } from 'vitest/node';
import { spawnPostgres } from './postgres-process.js';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const given = process.env.KEYWARD_TEST_PG_URL;
  if (given) {
    project.provide('postgresUrl', given);
    return;
  }
  const server = await spawnPostgres();
  project.provide('postgresUrl', server.url);
  return () => server.stop();
}
