// `pnpm bench [--quick]`: builds `keyward`, runs every benchmark script of
// bench/ (each one measures Keyward and its baseline interleaved in one run and
// prints `BENCH {json}` lines), then the stress suite, prints one table,
// writes bench/results.json and regenerates BENCHMARKS.md from it.
//
// A benchmark script is a top-level bench/*.ts or *.tsx file that reports
// through ./lib.js; helpers, targets and *.tmp.ts files are not.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpus, tmpdir, totalmem } from 'node:os';
import { renderMarkdown } from './benchmarks-md.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const benchDir = fileURLToPath(new URL('.', import.meta.url));
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.filter((a) => !a.startsWith('--'));
// The stress suite runs with the full benchmark only: --quick keeps within two minutes.
const skipStress = quick || args.includes('--no-stress');

// Every temporary file of the run (stores of 100k keys, histories of 1M events, PostgreSQL data
// directories: gigabytes, which the scripts do not all remove) goes in one directory, removed at the end:
// TMPDIR is what os.tmpdir() answers in the scripts and in every process they start.
const runTmp = mkdtempSync(join(tmpdir(), 'keyward-bench-run-'));
// PostgreSQL runs as the `postgres` user under root (test/support/postgres-server.ts): it must be able to walk in.
chmodSync(runTmp, 0o755);
process.on('exit', () => {
  try {
    rmSync(runTmp, { recursive: true, force: true, maxRetries: 3 });
  } catch (e) {
    process.stderr.write(`The run's temporary directory ${runTmp} was not removed whole: ${e.message}\n`);
  }
});
// Stopped (Ctrl-C, or killed politely): remove it all the same.
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]]) process.once(signal, () => process.exit(code));

function run(cmd, cmdArgs, onLine) {
  return new Promise((resolve) => {
    const child = spawn(cmd, cmdArgs, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, TMPDIR: runTmp } });
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        onLine(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    });
    child.on('close', (code, signal) => {
      if (buf) onLine(buf);
      resolve(code ?? (signal ? 128 : 1));
    });
  });
}

function benchScripts() {
  return readdirSync(benchDir)
    .filter((f) => /\.tsx?$/.test(f) && !/\.(d|tmp)\.tsx?$/.test(f) && !['lib.ts', 'fixtures.ts'].includes(f))
    .filter((f) => /from '\.\/lib\.js'/.test(readFileSync(benchDir + f, 'utf8')) && /\breport\(/.test(readFileSync(benchDir + f, 'utf8')))
    .filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)))
    .sort();
}

/** The goal's verdict; undefined when the goal only asks for the figure to be reported. */
function verdict(ratio, goal) {
  const m = /^(>=|<=)\s*([\d.]+)$/.exec(String(goal).trim());
  if (!m) return undefined;
  return m[1] === '>=' ? ratio >= Number(m[2]) : ratio <= Number(m[2]);
}

const fmt = (x) => (typeof x !== 'number' ? String(x) : Math.abs(x) >= 100 ? Math.round(x).toLocaleString('en-US') : String(Math.round(x * 100) / 100));

const started = Date.now();
const build = await run(process.execPath, ['scripts/build.mjs'], (l) => process.stdout.write(l + '\n'));
if (build !== 0) process.exit(build);

const measures = {};
const failed = [];
async function runScript(script) {
  process.stderr.write(`▶ ${script}${quick ? ' --quick' : ''}\n`);
  const t = Date.now();
  const code = await run(process.execPath, ['--import', 'tsx', `bench/${script}`, ...(quick ? ['--quick'] : [])], (line) => {
    if (!line.startsWith('BENCH ')) return void process.stdout.write(line + '\n');
    const m = JSON.parse(line.slice(6));
    measures[m.measure] = { value: m.value, baseline: m.baseline, ratio: m.ratio, goal: m.goal, unit: m.unit, against: m.against, script };
    process.stderr.write(`  ${m.measure}: ${fmt(m.value)} vs ${fmt(m.baseline)} ${m.unit} → ${fmt(m.ratio)} (goal ${m.goal})\n`);
  });
  process.stderr.write(`  ${script} took ${Math.round((Date.now() - t) / 1000)} s${code ? `, exit code ${code}` : ''}\n`);
  if (code !== 0) failed.push(script);
}
// The full run measures one script at a time. --quick is a smoke run that
// must finish within two minutes, so it runs two at a time: its ratios are
// still interleaved within each script, but noisier.
const queue = benchScripts();
const lanes = quick ? 2 : 1;
await Promise.all(
  Array.from({ length: lanes }, async () => {
    for (let s = queue.shift(); s; s = queue.shift()) await runScript(s);
  }),
);
// In the scripts' order, whichever finished first.
const order = benchScripts();
const entries = Object.entries(measures).sort(([, a], [, b]) => order.indexOf(a.script) - order.indexOf(b.script));

let stress;
if (!skipStress && only.length === 0) {
  process.stderr.write(`▶ stress${quick ? ' --quick' : ''}\n`);
  const code = await run(process.execPath, ['bench/stress.mjs', '--no-build', ...(quick ? ['--quick'] : []), '--json'], (line) => {
    if (line.startsWith('STRESS ')) stress = JSON.parse(line.slice(7));
  });
  if (code !== 0 || !stress) failed.push('stress');
}

// The table.
const rows = entries.map(([name, m]) => {
  const ok = verdict(m.ratio, m.goal);
  return [name, `${fmt(m.value)} ${m.unit}`, `${fmt(m.baseline)} ${m.unit}`, fmt(m.ratio), m.goal, ok === undefined ? '—' : ok ? 'ok' : 'MISSED'];
});
const header = ['measure', 'Keyward', 'baseline', 'ratio', 'goal', 'ok'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
process.stdout.write(`\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${rows.map(line).join('\n')}\n`);
if (stress) process.stdout.write(`\nstress: ${stress.operations.toLocaleString('en-US')} operations, ${stress.invariantsChecked.toLocaleString('en-US')} invariants checked, ${stress.failures} failures\n`);
process.stdout.write(`\n${Math.round((Date.now() - started) / 1000)} s in all\n`);

// results.json and BENCHMARKS.md, unless only some scripts ran.
if (only.length === 0) {
  const results = {};
  for (const [name, m] of entries) results[name] = { value: m.value, baseline: m.baseline, ratio: m.ratio, goal: m.goal, unit: m.unit, against: m.against };
  const run = {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
    command: `npx -y pnpm@10.34.9 bench${quick ? ' --quick' : ''}`,
    seconds: Math.round((Date.now() - started) / 1000),
  };
  writeFileSync(benchDir + 'results.json', JSON.stringify(results, null, 2) + '\n');
  if (stress) writeFileSync(benchDir + 'stress/results.json', JSON.stringify(stress, null, 2) + '\n');
  const mdPath = root + 'BENCHMARKS.md';
  const previous = existsSync(mdPath) ? readFileSync(mdPath, 'utf8') : '';
  const storedStress = stress ?? (existsSync(benchDir + 'stress/results.json') ? JSON.parse(readFileSync(benchDir + 'stress/results.json', 'utf8')) : undefined);
  writeFileSync(mdPath, renderMarkdown({ results, run, stress: storedStress, previous }));
  process.stderr.write(`wrote bench/results.json and BENCHMARKS.md\n`);
}

if (failed.length) {
  process.stderr.write(`failed: ${failed.join(', ')}\n`);
  process.exit(1);
}
