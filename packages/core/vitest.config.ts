import { configDefaults, defineProject } from 'vitest/config';

export default defineProject({
  test: { name: 'core', include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, '**/*.pg.test.ts'], testTimeout: 60_000 },
});
