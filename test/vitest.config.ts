import { defineProject } from 'vitest/config';

// End-to-end tests drive the built `keyward` (built by the root test script).
export default defineProject({
  test: { name: 'e2e', include: ['**/*.test.ts'], exclude: ['**/node_modules/**', '**/*.pg.test.ts'], testTimeout: 120_000, hookTimeout: 120_000 },
});
