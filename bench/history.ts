// Bounded history: a command's time and memory must not grow with the events
// a store keeps. Two histories of aggregated `api-key.used` events — 10k
// (83 minutes of 20 busy keys) and 1M (about six days) — and the three
// commands that used to read the whole event log (`events ls --limit 20`,
// `usage --since 1h`, `keys ls` with its "last used"), each run as a process
// of its own, interleaved; the 10k figure is the baseline.
//
// Through `keyward` itself once the JSON store serves day segments and usage
// aggregates (checked: the store's newest segment event must come back from
// `keyward events ls`); before that, through a probe process that asks the
// modules the same questions (bench/history-probe.ts).
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildHistory, buildStore } from './fixtures.js';
import { median, quick, report } from './lib.js';
import { announcedUrl } from '../test/support/announced-url.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const probe = fileURLToPath(new URL('./history-probe.ts', import.meta.url));
const keyward = join(root, 'packages/cli/dist/keyward.js');
const sizes = { small: 10_000, large: quick ? 300_000 : 1_000_000 };
const label = (n: number) => (n >= 1_000_000 ? `${n / 1_000_000}M` : `${n / 1000}k`);
const commands = {
  'events ls --limit 20': { keyward: ['events', 'ls', '--limit', '20'], probe: 'events' },
  'usage --since 1h': { keyward: ['usage', '--since', '1h'], probe: 'usage' },
  'keys ls': { keyward: ['keys', 'ls'], probe: 'keys' },
} as const;

interface Sample {
  ms: number;
  maxRssKb: number;
  out: string;
}

/** Runs a process under /usr/bin/time: its wall time from here, its peak RSS from the kernel. */
function timed(args: string[]): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const t = process.hrtime.bigint();
    const child = spawn('/usr/bin/time', ['-f', 'PEAK_RSS_KB %M', process.execPath, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (err += d));
    child.on('exit', (code) => {
      const ms = Number(process.hrtime.bigint() - t) / 1e6;
      const rss = /PEAK_RSS_KB (\d+)/.exec(err);
      if (code !== 0 || !rss) return reject(new Error(`${args.join(' ')} exited ${code}: ${err.trim()}`));
      resolve({ ms, maxRssKb: Number(rss[1]), out });
    });
  });
}

interface Built {
  store: string;
  /** An admin's token (the server's questions need one). */
  adminToken: string;
  eventsDir: string;
  usageDir: string;
  keysFile: string;
  newestEventId: string;
}

const built: Record<'small' | 'large', Built> = {} as never;
process.on('exit', () => {
  for (const b of Object.values(built)) rmSync(dirname(b.store), { recursive: true, force: true });
});
for (const name of ['small', 'large'] as const) {
  const t = Date.now();
  const store = buildStore(20, 20);
  const keyIds = Object.keys(store.doc.keys);
  // The first key is the admin's, so the server can be asked as an admin.
  Object.assign(store.doc.keys[keyIds[0]], { owner: 'admin', createdBy: 'admin' });
  writeFileSync(store.path, JSON.stringify(store.doc), { mode: 0o600 });
  const h = await buildHistory(sizes[name], { keyIds, storePath: store.path });
  const keysFile = join(dirname(store.path), 'keys.json');
  writeFileSync(keysFile, JSON.stringify(keyIds));
  built[name] = { store: store.path, adminToken: store.tokens[0], eventsDir: h.eventsDir, usageDir: h.usageDir, keysFile, newestEventId: h.newestEventId };
  process.stderr.write(`  built ${label(sizes[name])} events in ${((Date.now() - t) / 1000).toFixed(1)} s\n`);
}

// Does `keyward` read this history? (Its first open also migrates the round-1 document: not timed.)
const keywardArgs = (b: Built, args: readonly string[]) => [keyward, ...args, '--store', b.store, '--as', 'admin', '--json'];
let throughKeyward = false;
try {
  const first = await timed(keywardArgs(built.small, ['events', 'ls', '--limit', '1']));
  throughKeyward = first.out.includes(built.small.newestEventId);
  await timed(keywardArgs(built.large, ['events', 'ls', '--limit', '1']));
} catch (e) {
  process.stderr.write(`  keyward could not read the store (${(e as Error).message.split('\n')[0]})\n`);
}
process.stderr.write(`  measuring ${throughKeyward ? 'keyward processes' : 'probe processes (keyward does not read day segments yet)'}\n`);

// The machine is shared: one run in three or four comes tens of milliseconds late (other work, not the
// question), often several in a row, so each side's figure is the first quartile of its interleaved runs.
const rounds = quick ? 5 : 11;
async function quartiles(contenders: Record<'small' | 'large', () => Promise<number>>): Promise<{ small: number; large: number }> {
  const samples = { small: [] as number[], large: [] as number[] };
  for (let r = 0; r < rounds; r++) for (const name of r % 2 ? (['large', 'small'] as const) : (['small', 'large'] as const)) samples[name].push(await contenders[name]());
  const q1 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 4)];
  return { small: q1(samples.small), large: q1(samples.large) };
}
const time: Record<string, { small: number; large: number }> = {};
const rss: Record<string, { small: number; large: number }> = {};
for (const [command, how] of Object.entries(commands)) {
  const peak = { small: 0, large: 0 };
  const one = (name: 'small' | 'large') => async () => {
    const b = built[name];
    if (throughKeyward) {
      const s = await timed(keywardArgs(b, how.keyward));
      peak[name] = Math.max(peak[name], s.maxRssKb);
      return s.ms;
    }
    // The probe starts through tsx (a second of compiling that keyward does not pay): its own timing of the question counts.
    const s = await timed(['--import', 'tsx', probe, b.eventsDir, b.usageDir, how.probe, b.keysFile]);
    peak[name] = Math.max(peak[name], s.maxRssKb);
    return (JSON.parse(s.out) as { ms: number }).ms;
  };
  time[command] = await quartiles({ small: one('small'), large: one('large') });
  rss[command] = peak;
  process.stderr.write(`  ${command}: ${time[command].small.toFixed(1)} ms vs ${time[command].large.toFixed(1)} ms, peak RSS ${Math.round(peak.small / 1024)} vs ${Math.round(peak.large / 1024)} MB\n`);
}

// The server: its first answers on each history (the event log used to block its event loop for seconds), and its peak RSS.
const served: Record<'small' | 'large', { firstListMs: number; peakKb: number }[]> = { small: [], large: [] };
if (throughKeyward) {
  for (let r = 0; r < (quick ? 2 : 4); r++) for (const name of ['small', 'large'] as const) served[name].push(await serveOnce(built[name]));
  const med = (name: 'small' | 'large') => median(served[name].map((s) => s.firstListMs));
  const peak = (name: 'small' | 'large') => Math.max(...served[name].map((s) => s.peakKb));
  rss['keyward serve'] = { small: peak('small'), large: peak('large') };
  process.stderr.write(`  keyward serve, first GET /api/v1/api-keys: ${med('small').toFixed(1)} ms vs ${med('large').toFixed(1)} ms, peak RSS ${Math.round(peak('small') / 1024)} vs ${Math.round(peak('large') / 1024)} MB\n`);
  report({
    measure: `server's first GET /api/v1/api-keys, ${label(sizes.large)} events vs 10k`,
    value: Math.round(med('large') * 10) / 10,
    baseline: Math.round(med('small') * 10) / 10,
    unit: 'ms',
    ratio: med('large') / med('small'),
    goal: '<= 1.5',
    against: 'the same request to a server on a 10k-event history, same run (then GET /audits and /api-keys/usage; the server\'s peak RSS counts in the memory measure)',
  });
}

/** Starts `keyward serve` on a history, asks it what the faces ask first, and reads its peak RSS (VmHWM) before stopping it. */
async function serveOnce(b: Built): Promise<{ firstListMs: number; peakKb: number }> {
  const child = spawn(process.execPath, [keyward, 'serve', '--store', b.store, '--port', '0'], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    const url = await announcedUrl(child).url;
    const ask = async (path: string) => {
      const res = await fetch(url + path, { headers: { authorization: `Bearer ${b.adminToken}` } });
      if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
    };
    const t = process.hrtime.bigint();
    await ask('/api/v1/api-keys');
    const firstListMs = Number(process.hrtime.bigint() - t) / 1e6;
    await ask('/api/v1/audits?limit=20');
    await ask('/api/v1/api-keys/usage?since=1h');
    const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    const peakKb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return { firstListMs, peakKb };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
  }
}

const how = throughKeyward ? '`keyward` processes' : 'the question in probe processes asking the day segments and usage aggregates (keyward does not read them yet)';
const worst = (m: Record<string, { small: number; large: number }>) => Object.entries(m).sort((a, b) => b[1].large / b[1].small - a[1].large / a[1].small)[0];
const [slowest, t] = worst(time);
report({
  measure: `events ls / usage / keys ls, ${label(sizes.large)} events vs 10k`,
  value: Math.round(t.large * 10) / 10,
  baseline: Math.round(t.small * 10) / 10,
  unit: 'ms',
  ratio: t.large / t.small,
  goal: '<= 1.5',
  against: `the same command on a 10k-event history, same run; ${throughKeyward ? 'wall time of' : 'time of'} ${how}; the worst of the three (${slowest})`,
});
const [hungriest, m] = worst(rss);
report({
  measure: `memory, ${label(sizes.large)} events vs 10k`,
  value: Math.round(m.large / 1024),
  baseline: Math.round(m.small / 1024),
  unit: 'MB peak RSS',
  ratio: m.large / m.small,
  goal: '<= 1.5',
  against: `the same command on a 10k-event history, same run; peak RSS of ${how}; the worst of the three (${hungriest})`,
});
