import { defineProject } from 'vitest/config';

// The files that hold Keyward's PostgreSQL store to its contract, run again
// on the oldest PostgreSQL it runs on (14: test/support/oldest-postgres.ts),
// where it folds case with ICU rather than PostgreSQL 18's pg_unicode_fast and
// must use nothing newer than 14 has. The `postgres` project runs them all
// on PostgreSQL 18.
export default defineProject({
  test: {
    name: 'postgres 14',
    include: [
      'packages/core/test/conformance/postgres.pg.test.ts',
      'packages/core/test/postgres/store.pg.test.ts',
      'packages/core/test/postgres/engine.pg.test.ts',
      'packages/core/test/postgres/migrations.pg.test.ts',
      'packages/core/test/postgres/copy.pg.test.ts',
      'packages/core/test/postgres/create-check.pg.test.ts',
      'packages/core/test/postgres/made-keys-differential.pg.test.ts',
      'test/postgres-cli.pg.test.ts',
      'test/scale-out.pg.test.ts',
    ],
    globalSetup: ['test/support/oldest-postgres-global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
