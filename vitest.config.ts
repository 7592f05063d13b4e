import { defineConfig } from 'vitest/config';

// One root run; each package owns its own project config.
export default defineConfig({
  test: {
    projects: ['packages/*/vitest.config.ts', 'test/vitest.config.ts'],
  },
});
