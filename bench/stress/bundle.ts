// The stress suite's child processes run as esbuild bundles (as `keyward`
// itself ships), so the crash loop can start a hundred of them without paying
// for a TypeScript loader each time.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export async function bundle(name: string): Promise<string> {
  const outfile = join(mkdtempSync(join(tmpdir(), 'keyward-stress-bundle-')), `${name}.mjs`);
  await build({
    entryPoints: [fileURLToPath(new URL(`./${name}.ts`, import.meta.url))],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'warning',
  });
  return outfile;
}
