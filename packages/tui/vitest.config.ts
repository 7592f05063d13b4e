import { defineProject } from 'vitest/config';

// Components, reducers and the keypress layer, rendered with ink-testing-library.
export default defineProject({
  test: { name: 'tui', include: ['test/**/*.test.{ts,tsx}'], testTimeout: 30_000 },
});
