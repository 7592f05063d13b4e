// Bundles the runnable entry points. Workspace packages (@keyward/*) and
// their small npm dependencies (lowdb) are bundled from source; the npm
// dependencies the entry's own package declares (ink, react, meow) stay
// external imports, loaded from node_modules as published.
import { build } from 'esbuild';
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

function externalsOf(entry) {
  const pkg = JSON.parse(readFileSync(root + dirname(dirname(entry)) + '/package.json', 'utf8'));
  const deps = Object.keys(pkg.dependencies ?? {}).filter((d) => !d.startsWith('@keyward/'));
  return [...deps, ...deps.map((d) => d + '/*'), ...builtinModules, ...builtinModules.map((m) => 'node:' + m)];
}

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
    external: externalsOf(e.in),
    banner: { js: '#!/usr/bin/env node' },
    logLevel: 'warning',
  });
}

// The extension has its own build (CommonJS, `vscode` external).
if (existsSync(root + 'packages/vscode/build.mjs')) {
  await import(root + 'packages/vscode/build.mjs');
}
