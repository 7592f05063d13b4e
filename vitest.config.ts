import { defineConfig } from 'vitest/config';

// One root run; each package owns its own project config. Tests that need a
// real PostgreSQL (*.pg.test.ts) run in one project of their own. Every
// temporary file of the run goes into one directory, removed at its end
// (test/support/temp-root-global-setup.ts).
export default defineConfig({
  test: {
    globalSetup: ['test/support/temp-root-global-setup.ts'],
    projects: ['packages/*/vitest.config.ts', 'test/vitest.config.ts', 'vitest.postgres.config.ts', 'vitest.postgres-14.config.ts'],
  },
});
