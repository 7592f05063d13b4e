// A compaction of a 100k-key JSON store under a running `keyward serve`: how
// long the server's event loop is held, and what its verifies see, during
// the compaction against the same server's plain creates (no compaction) in
// the same run. A second `keyward serve` on the same store (a reader: it
// only verifies) is watched too, since it reads the new snapshot.
//
// The store opens on a small snapshot with the 100k keys in its journal, so
// the first create compacts it (the journal past the snapshot is over the
// threshold: compactAfterBytes, at least the snapshot's size) and later ones
// do not (the new snapshot is the whole store). Each run starts from a copy.
//
//   node --import tsx bench/compaction.ts [--quick] [--keys N] [--runs N] [--detail]
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdtempSync, rmSync, statSync, watch, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ApiKey, createEngine, createJsonFileStore } from '@keyward/core';
import { journalPathFor } from '../packages/core/src/store/json/journal.js';
import { encodeRecord } from '../packages/core/src/store/json/record.js';
import { buildStore } from './fixtures.js';
import { announcedUrl } from '../test/support/announced-url.js';
import { median, quick, report } from './lib.js';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const KEYS = arg('--keys', 100_000);
const RUNS = arg('--runs', quick ? 1 : 3);
const VERIFY_EVERY_MS = 5;
const CREATE_EVERY_MS = 100;
const STEADY_MS = quick ? 2000 : 3000;

// KEYWARD_BIN: another build of `keyward` to measure (an older one, for a before/after).
const keywardBin = process.env.KEYWARD_BIN ?? fileURLToPath(new URL('../packages/cli/dist/keyward.js', import.meta.url));
const probe = fileURLToPath(new URL('./loop-probe.mjs', import.meta.url));
// The probe notes only blocks longer than this: a server that held its loop for no longer during plain creates
// has a longest block of 0 noted, and its baseline is taken as this (under it, nothing is seen).
const BLOCK_MS = 5;
if (!existsSync(keywardBin)) throw new Error(`${keywardBin} is missing; run node scripts/build.mjs`);

/** The store with its keys in the journal, and a token of a developer under their key limit. */
async function fixture(): Promise<{ dir: string; tokens: string[] }> {
  const built = buildStore(KEYS, 200, 200);
  const keys = Object.values(built.doc.keys) as ApiKey[];
  writeFileSync(built.path, JSON.stringify({ ...built.doc, keys: {} }), { mode: 0o600 });
  const engine = createEngine(createJsonFileStore(built.path), { usageFlushMs: 0 });
  await engine.as('admin').listKeys({ limit: 1 }); // migrates: a snapshot of the tenant and users, an empty journal
  await engine.close();
  const records: Buffer[] = [];
  for (let i = 0; i < keys.length; i += 500) records.push(encodeRecord({ txs: [{ ops: keys.slice(i, i + 500).map((key) => ({ op: 'putKey', key })), events: [] }] }));
  appendFileSync(journalPathFor(built.path), Buffer.concat(records));
  return { dir: dirname(built.path), tokens: built.tokens };
}

interface Served {
  child: ChildProcess;
  url: string;
  report(): Promise<{ blocks: { at: number; ms: number }[]; gcs: { at: number; ms: number }[] }>;
}

function serve(store: string): Promise<Served> {
  const child = spawn(process.execPath, ['--import', probe, keywardBin, 'serve', '--port', '0', '--store', store], {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    env: { ...process.env, KEYWARD_USER: 'admin', NO_COLOR: '1', LOOP_PROBE_BLOCK_MS: String(BLOCK_MS) },
  });
  return announcedUrl(child).url.then((url) => ({
    child,
    url,
    report: () =>
      new Promise((r) => {
        child.once('message', (x) => r(x as never));
        child.send('report');
      }),
  }));
}

function call(agent: Agent, url: string, method: string, path: string, token: string, body?: unknown): Promise<number> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = request(url + path, { agent, method, headers: { authorization: `Bearer ${token}`, ...(data ? { 'content-type': 'application/json' } : {}) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(data);
  });
}

interface Timed {
  at: number;
  ms: number;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sends `send` every `everyMs` (one at a time, on one kept-alive connection) until stopped; each request's start and time. */
function steady(everyMs: number, send: () => Promise<number>, want: number) {
  const timed: Timed[] = [];
  let stop = false;
  const done = (async () => {
    while (!stop) {
      const at = Date.now();
      const t = performance.now();
      const status = await send();
      if (status !== want) throw new Error(`answered ${status}, not ${want}`);
      timed.push({ at, ms: performance.now() - t });
      await sleep(Math.max(0, everyMs - (performance.now() - t)));
    }
  })();
  return { timed, stop: () => ((stop = true), done) };
}

const within = <T extends { at: number }>(xs: T[], [from, to]: [number, number]) => xs.filter((x) => x.at >= from && x.at < to);
const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const max = (xs: number[]) => xs.reduce((m, x) => Math.max(m, x), 0);
const r1 = (x: number) => Math.round(x * 10) / 10;

const base = await fixture();
// Removed however the run ends (a failed start included: 'exit' follows an uncaught error too).
process.on('exit', () => rmSync(base.dir, { recursive: true, force: true }));
const rows: Record<string, number[]> = {};
const keep = (k: string, v: number) => (rows[k] ??= []).push(v);
for (let run = 0; run < RUNS; run++) {
  const dir = mkdtempSync(join(tmpdir(), 'keyward-bench-compaction-'));
  cpSync(base.dir, dir, { recursive: true });
  const store = join(dir, 'keyward.json');
  const files: { at: number; name: string }[] = [];
  const watcher = watch(dir, (_, name) => files.push({ at: Date.now(), name: String(name) }));
  const agents = [new Agent({ keepAlive: true, maxSockets: 1 }), new Agent({ keepAlive: true, maxSockets: 1 }), new Agent({ keepAlive: true, maxSockets: 1 })];
  // Each server as it starts: one that fails to start must not leave the other running, or its folder behind.
  const started: Served[] = [];
  try {
    const start = async () => {
      const s = await serve(store);
      started.push(s);
      return s;
    };
    const writer = await start();
    const reader = await start();
    const token = (i: number) => base.tokens[i % base.tokens.length];
    let n = 0;
    const verifies = [writer, reader].map((s, i) => steady(VERIFY_EVERY_MS, () => call(agents[i], s.url, 'GET', '/api/v1/users/me', token(n++)), 200));
    await sleep(1500); // warm: the verifier's cache, the JIT
    const t0 = Date.now();
    await sleep(STEADY_MS);
    // Creates from here: the first compacts; the window ends once the new journal is in place.
    const t1 = Date.now();
    let c = 0;
    const creates = steady(CREATE_EVERY_MS, () => call(agents[2], writer.url, 'POST', '/api/v1/api-keys', token(c++), { description: `compaction bench ${c}` }), 201);
    const journal = journalPathFor(store);
    const before = statSync(journal).ino;
    for (let waited = 0; statSync(journal).ino === before; waited += 10) {
      if (waited > 60_000) throw new Error('no compaction within 60 s');
      await sleep(10);
    }
    const replaced = Date.now();
    await sleep(1500); // the reader's catch-up after it
    const t2 = Date.now();
    await sleep(STEADY_MS);
    const t3 = Date.now();
    await creates.stop();
    await Promise.all(verifies.map((v) => v.stop()));
    const windows = { steady: [t0, t1] as [number, number], compaction: [t1, t2] as [number, number], creates: [t2, t3] as [number, number] };
    const tmp = files.find((f) => f.at >= t1 && f.name.endsWith('.tmp'));
    const renamed = files.find((f) => f.at >= t1 && f.name === basename(store));
    console.log(`run ${run + 1}: compaction window ${t2 - t1} ms (temporary file at +${tmp ? tmp.at - t1 : '?'} ms, snapshot renamed at +${renamed ? renamed.at - t1 : '?'} ms, journal replaced at +${replaced - t1} ms)`);
    for (const [who, s, v] of [['writer', writer, verifies[0]], ['reader', reader, verifies[1]]] as const) {
      const { blocks, gcs } = await s.report();
      for (const [name, w] of Object.entries(windows)) {
        const lat = within(v.timed, w).map((x) => x.ms);
        const bl = within(blocks, w).map((x) => x.ms);
        const gc = within(gcs, w).map((x) => x.ms);
        if (name === 'compaction' && process.argv.includes('--detail'))
          console.log(`  ${who} blocks: ${within(blocks, w).map((b) => `+${b.at - t1 | 0}:${b.ms | 0}`).join(' ')}\n  ${who} gcs: ${within(gcs, w).filter((g) => g.ms > 3).map((g) => `+${g.at - t1 | 0}:${g.ms | 0}`).join(' ')}`);
        keep(`${who} ${name} verify max`, max(lat));
        keep(`${who} ${name} verify p99`, pct(lat, 99));
        keep(`${who} ${name} longest block`, max(bl));
        keep(`${who} ${name} longest gc`, max(gc));
        console.log(
          `  ${who} ${name.padEnd(10)} verifies ${String(lat.length).padStart(4)}: p50 ${r1(pct(lat, 50))} p99 ${r1(pct(lat, 99))} max ${r1(max(lat))} ms | loop blocks >5ms: ${bl.length}, longest ${r1(max(bl))} ms, sum ${r1(bl.reduce((a, b) => a + b, 0))} | GC: ${gc.length}, longest ${r1(max(gc))} ms, sum ${r1(gc.reduce((a, b) => a + b, 0))}`,
        );
      }
    }
    const cr = creates.timed;
    console.log(`  creates: during compaction max ${r1(max(within(cr, windows.compaction).map((x) => x.ms)))} ms, after: p50 ${r1(pct(within(cr, windows.creates).map((x) => x.ms), 50))} max ${r1(max(within(cr, windows.creates).map((x) => x.ms)))} ms`);
  } finally {
    watcher.close();
    for (const a of agents) a.destroy();
    for (const s of started) {
      if (s.child.exitCode !== null || s.child.signalCode !== null) continue;
      const exited = new Promise((r) => s.child.once('exit', r));
      s.child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

const m = (k: string) => median(rows[k]);
console.log(Object.entries(rows).map(([k, v]) => `${k}: ${v.map(r1).join(', ')}`).join('\n'));
report({
  measure: `JSON store compaction, ${KEYS / 1000}k keys: longest event-loop block of keyward serve (ms)`,
  value: r1(m('writer compaction longest block')),
  baseline: r1(Math.max(BLOCK_MS, m('writer creates longest block'))),
  unit: 'ms',
  ratio: m('writer compaction longest block') / Math.max(BLOCK_MS, m('writer creates longest block')),
  goal: '<= 3',
  against: `the longest block of the same server during plain creates (no compaction), same run; median of runs; blocks under ${BLOCK_MS} ms are not noted, so a baseline under that is taken as ${BLOCK_MS} ms`,
});
report({
  measure: `JSON store compaction, ${KEYS / 1000}k keys: slowest verify of a second keyward serve on the store (ms)`,
  value: r1(m('reader compaction verify max')),
  baseline: r1(m('reader creates verify max')),
  unit: 'ms',
  ratio: m('reader compaction verify max') / Math.max(1, m('reader creates verify max')),
  goal: '<= 3',
  against: 'its slowest verify while the first server makes plain creates, same run; median of runs',
});
