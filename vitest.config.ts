import { defineConfig } from 'vitest/config';

// One root run; each package owns its own project config. Tests that need a
// real PostgreSQL (*.pg.test.ts) run in one project of their own.
export default defineConfig({
  test: {
    projects: ['packages/*/vitest.config.ts', 'test/vitest.config.ts', 'vitest.postgres.config.ts', 'vitest.postgres-14.config.ts'],
  },
});
