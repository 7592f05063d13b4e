import { fileURLToPath } from 'node:url';
import { defineProject } from 'vitest/config';

// Unit tests run against a mock of the `vscode` module (the real one exists
// only inside VS Code); the end-to-end test drives a real VS Code instead.
export default defineProject({
  resolve: {
    alias: [{ find: /^vscode$/, replacement: fileURLToPath(new URL('./test/mock/vscode.ts', import.meta.url)) }],
  },
  test: {
    name: 'vscode',
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
  },
});
