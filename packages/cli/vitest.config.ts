import { defineProject } from 'vitest/config';

// The command line's parts tested in process; the real `keyward` process is tested from test/.
export default defineProject({
  test: { name: 'cli', include: ['test/**/*.test.ts'], testTimeout: 30_000 },
});
