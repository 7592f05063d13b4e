// `pnpm vsix`: builds the bundle and packages it into a .vsix with vsce, then
// prints the .vsix's absolute path on the last line (scripts and tests read it).
//   node vsix.mjs [--out PATH]
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const { name, version } = JSON.parse(readFileSync(here + 'package.json', 'utf8'));
const at = process.argv.indexOf('--out');
const out = resolve(at > 0 ? process.argv[at + 1] : `${here}${name}-${version}.vsix`);

await import('./build.mjs');
const vsce = createRequire(import.meta.url).resolve('@vscode/vsce/vsce');
// The bundle carries every dependency, so vsce must not look for node_modules;
// the package is not published, so it has no licence file or repository.
execFileSync(process.execPath, [vsce, 'package', '--no-dependencies', '--skip-license', '--allow-missing-repository', '--out', out], {
  cwd: here,
  stdio: ['ignore', 'inherit', 'inherit'],
});
console.log(out);
