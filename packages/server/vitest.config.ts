import { configDefaults, defineProject } from 'vitest/config';

export default defineProject({
  test: { name: 'server', include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, '**/*.pg.test.ts'], testTimeout: 60_000, hookTimeout: 30_000 },
});
