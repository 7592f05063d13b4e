import { fileURLToPath } from 'node:url';
import { configDefaults, defineProject } from 'vitest/config';

// Unit tests run against a mock of the `vscode` module (the real one exists
// only inside VS Code); the end-to-end test drives a real VS Code instead.
// Its PostgreSQL version (*.pg.test.ts) runs in the root's `postgres` project,
// which starts the server.
export default defineProject({
  resolve: {
    alias: [{ find: /^vscode$/, replacement: fileURLToPath(new URL('./test/mock/vscode.ts', import.meta.url)) }],
  },
  test: {
    name: 'vscode',
    include: ['test/**/*.test.ts'],
    exclude: [...configDefaults.exclude, '**/*.pg.test.ts'],
    testTimeout: 30_000,
  },
});
