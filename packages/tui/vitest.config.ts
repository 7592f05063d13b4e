import { defineProject } from 'vitest/config';

// Components, reducers and the keypress layer, rendered with ink-testing-library.
export default defineProject({
  // Output is not a terminal under test; FORCE_COLOR makes Ink colour it as it would a terminal,
  // so that turning colour off (NO_COLOR) is something a test can see.
  test: { name: 'tui', include: ['test/**/*.test.{ts,tsx}'], testTimeout: 30_000, env: { FORCE_COLOR: '1' } },
});
