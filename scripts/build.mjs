// Bundles the runnable entry points. Workspace packages (@keyward/*) and
// their small npm dependencies (lowdb) are bundled from source; the npm
// dependencies the entry's own package declares (ink, react, meow) stay
// external imports, loaded from node_modules as published.
import { build } from 'esbuild';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

function externalsOf(entry) {
  const pkg = JSON.parse(readFileSync(root + dirname(dirname(entry)) + '/package.json', 'utf8'));
  const deps = Object.keys(pkg.dependencies ?? {}).filter((d) => !d.startsWith('@keyward/'));
  return [...deps, ...deps.map((d) => d + '/*'), ...builtinModules, ...builtinModules.map((m) => 'node:' + m)];
}

// `keyward` loads the terminal UI (Ink, React) and the server only when it
// runs them: they are split into chunks, so a subcommand starts fast.
const entries = [{ in: 'packages/cli/src/keyward.ts', name: 'keyward', outdir: 'packages/cli/dist' }];

for (const e of entries) {
  if (!existsSync(root + e.in)) continue;
  rmSync(root + e.outdir, { recursive: true, force: true }); // no stale chunks of earlier builds
  await build({
    entryPoints: { [e.name]: root + e.in },
    outdir: root + e.outdir,
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
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
