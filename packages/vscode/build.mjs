// Bundles the extension into one CommonJS file, dist/extension.js: VS Code
// loads it with require(), provides `vscode` itself, and installs no
// node_modules, so @keyward/core and its dependencies (lowdb, pg) are bundled
// in. Run by the root build (and so by `pnpm install` and `pnpm test`);
// `vsix.mjs` packages it.
import { build } from 'esbuild';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));

const { outputFiles } = await build({
  entryPoints: [here + 'src/extension.ts'],
  outfile: here + 'dist/extension.js',
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: ['vscode'],
  sourcemap: 'linked',
  logLevel: 'warning',
  write: false,
});
// Each file is put in place whole (written beside it, then renamed): the two
// end-to-end tests package the extension at the same time, and one's vsce must
// never read a bundle the other's build is half-way through writing.
// (.vscodeignore keeps the temporary files out of a .vsix.)
for (const f of outputFiles) {
  mkdirSync(dirname(f.path), { recursive: true });
  const temporary = `${f.path}.${process.pid}.tmp`;
  writeFileSync(temporary, f.contents);
  renameSync(temporary, f.path);
}
