// The stress suite: mixed load, crash loop, HTTP fuzzing — each for a fixed
// time or count — with a summary on stderr and, with --json, one
// `STRESS {json}` line on stdout for bench/run.mjs and the CI test. Exits 1
// when any invariant broke.
import { runCrashLoop } from './crash.js';
import { runFuzzAgainstServe } from './fuzz-serve.js';
import { runMixed } from './mixed.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const quick = args.includes('--quick');
const seconds = flag('seconds', quick ? 10 : 60);
const crashes = flag('crashes', quick ? 10 : 100);
const fuzzSeconds = flag('fuzz-seconds', quick ? 5 : 30);
const seed = flag('seed', Date.now() % 1_000_000);
const log = (s: string) => process.stderr.write(s + '\n');

log(`stress: seed ${seed} (repeat with --seed ${seed})`);
const started = Date.now();
const mixed = await runMixed({ seconds, processes: 4, clients: 3, seed, log });
log(`mixed load: ${mixed.figures.operationCount} operations, ${mixed.figures.invariantsChecked} checks, ${mixed.figures.failures} failures; server RSS ${mixed.figures.serverRssMiB.start} → ${mixed.figures.serverRssMiB.end} MiB`);
const crash = await runCrashLoop({ iterations: crashes, seed, log });
log(`crash loop: ${crash.figures.iterations} kills, ${crash.figures.acknowledgedWrites} acknowledged writes, ${crash.figures.invariantsChecked} checks, ${crash.figures.failures} failures`);
const fuzz = fuzzSeconds > 0 ? await runFuzzAgainstServe({ seconds: fuzzSeconds, seed }) : undefined;
if (fuzz) log(`HTTP fuzz: ${fuzz.figures.requests} requests, ${fuzz.figures.invariantsChecked} checks, ${fuzz.figures.failures} failures`);

const tallies = [mixed.tally, crash.tally, ...(fuzz ? [fuzz.tally] : [])];
const failures = tallies.reduce((n, t) => n + t.failures, 0);
const summary = {
  command: `npx -y pnpm@10.34.9 stress --seconds ${seconds} --crashes ${crashes} --fuzz-seconds ${fuzzSeconds} --seed ${seed}`,
  date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
  seconds: Math.round((Date.now() - started) / 1000),
  operations: mixed.figures.operationCount + crash.figures.acknowledgedWrites + (fuzz?.figures.requests ?? 0),
  invariantsChecked: tallies.reduce((n, t) => n + t.checked, 0),
  failures,
  failureSamples: tallies.flatMap((t) => t.samples).slice(0, 20),
  mixed: mixed.figures,
  crash: crash.figures,
  fuzz: fuzz?.figures ?? { seconds: 0, requests: 0, statuses: {}, unanswered: 0, invariantsChecked: 0, failures: 0 },
};
for (const f of summary.failureSamples) log(`  failure: ${f}`);
log(`stress: ${summary.operations} operations, ${summary.invariantsChecked} invariants checked, failures: ${failures} (${summary.seconds} s)`);
if (args.includes('--json')) process.stdout.write(`STRESS ${JSON.stringify(summary)}\n`);
process.exit(failures === 0 ? 0 : 1);
