// Bundles the runnable entry points. Workspace packages (@keyward/*) are
// bundled from their TypeScript source; everything from npm stays an external
// import so node_modules is loaded as published.
import { build } from 'esbuild';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

const externalNpm = {
  name: 'external-npm',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) =>
      args.path.startsWith('@keyward/') ? undefined : { path: args.path, external: true },
    );
  },
};

const entries = [
  { in: 'packages/tui/src/cli.tsx', out: 'packages/tui/dist/keyward.js' },
];

for (const e of entries) {
  if (!existsSync(root + e.in)) continue;
  await build({
    entryPoints: [root + e.in],
    outfile: root + e.out,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    jsx: 'automatic',
    sourcemap: 'linked',
    plugins: [externalNpm],
    banner: { js: '#!/usr/bin/env node' },
    logLevel: 'warning',
  });
}

// The extension has its own build (CommonJS, `vscode` external).
if (existsSync(root + 'packages/vscode/build.mjs')) {
  await import(root + 'packages/vscode/build.mjs');
}
