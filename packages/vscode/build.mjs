// Bundles the extension into one CommonJS file, dist/extension.js: VS Code
// loads it with require(), provides `vscode` itself, and installs no
// node_modules, so @keyward/core and lowdb are bundled in. Run by the root
// build (and so by `pnpm install` and `pnpm test`); `vsix.mjs` packages it.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));

await build({
  entryPoints: [here + 'src/extension.ts'],
  outfile: here + 'dist/extension.js',
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: ['vscode'],
  sourcemap: 'linked',
  logLevel: 'warning',
});
