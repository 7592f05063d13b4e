import { defineProject } from 'vitest/config';

// Tests that need a real PostgreSQL server are named *.pg.test.ts, wherever
// they live; this project alone starts one (test/support/postgres-global-setup.ts),
// and only when one of its files runs, so no other test pays for it.
export default defineProject({
  test: {
    name: 'postgres',
    include: ['packages/*/test/**/*.pg.test.ts', 'test/**/*.pg.test.ts'],
    exclude: ['**/node_modules/**'],
    globalSetup: ['test/support/postgres-global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
