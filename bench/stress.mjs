// `pnpm stress [--quick] [--seconds N] [--crashes N] [--fuzz-seconds N] [--seed N] [--json] [--no-build]`:
// the stress suite (bench/stress/main.ts) under Node with tsx, after building
// `keyward` so the server it starts is the current code (--no-build when the
// caller has just built it, as the test and `pnpm bench` have). Full length
// by default: 60 s of mixed load, 100 crash-loop kills, 30 s of HTTP fuzzing.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const run = (args) =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: 'inherit' });
    child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });

const args = process.argv.slice(2);
if (!args.includes('--no-build')) {
  const built = await run(['scripts/build.mjs']);
  if (built !== 0) process.exit(built);
}
process.exit(await run(['--import', 'tsx', 'bench/stress/main.ts', ...args.filter((a) => a !== '--no-build')]));
