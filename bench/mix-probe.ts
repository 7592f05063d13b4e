// Where the two-server PostgreSQL mix spends its CPU (bench/postgres.ts mix
// measures only its rate): `node --import tsx bench/mix-probe.ts [KIND]
// [--warm S] [--seconds S] [--connections N] [--one] [--rate N]` (build keyward first:
// node scripts/build.mjs). Prints figures only; not a `pnpm bench` measure.
//
// Two `keyward serve` on one PostgreSQL of 1k keys (bench/fixtures.ts), the
// mix of bench/http-mix-load.ts, or a variant of it (KIND):
//   all           the mix as measured
//   nocreate      each create replaced by GET /users/me
//   nolist        each list page replaced by GET /users/me
//   createonly    the creates alone
//   othercreates  the creates made by 50 other keys (of 50 other owners)
// --connections per server (8); --one: all of them on the first server;
// --profile DIR: each server writes a V8 CPU profile there as it stops.
// --perf DIR: perf samples the servers' CPU time while measuring, and the
// functions that used it are printed (bench/perf-profile.ts; needs perf).
// --rate N: at most N requests a second to each server (unlimited without):
// what a request costs where the machine is not saturated.
// --waits: what PostgreSQL's busy backends wait for while measuring, sampled
// (bench/pg-waits.ts: the sampler takes a little of the machine).
// After --warm seconds (30, in two runs), it measures --seconds (10) and prints: requests
// per second; each server's CPU per request, user and system, its main thread
// apart from V8's and libuv's; PostgreSQL's, by process, user and system; and
// the statements that took longest, those inside the create procedure too
// (pg_stat_statements, which this probe's server loads: a little of
// PostgreSQL's CPU is its own).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { announcedUrl } from '../test/support/announced-url.js';
import { startPostgres } from '../test/support/postgres-server.js';
import { buildStore, postgresCopyOf } from './fixtures.js';
import { type Request, autocannon, mix } from './http-mix-load.js';
import { killedOnExit, procStat } from './lib.js';
import { PERF_NODE_FLAGS, perfSummary, recordPerf } from './perf-profile.js';
import { slowestStatements, withStatementStats } from './pg-statements.js';
import { type WaitSamples, sampleWaits, waitLines } from './pg-waits.js';

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: { warm: { type: 'string', default: '30' }, seconds: { type: 'string', default: '10' }, connections: { type: 'string', default: '8' }, one: { type: 'boolean', default: false }, profile: { type: 'string' }, perf: { type: 'string' }, rate: { type: 'string' }, waits: { type: 'boolean', default: false } },
});
const kind = positionals[0] ?? 'all';
const KINDS = ['all', 'nocreate', 'nolist', 'createonly', 'othercreates'];
if (!KINDS.includes(kind)) throw new Error(`KIND is one of ${KINDS.join(', ')}`);
const keywardBin = new URL('../packages/cli/dist/keyward.js', import.meta.url).pathname;

/** A server's CPU: its main thread, its other threads (V8's compiler and GC, libuv's pool), user and system. */
function serverCpu(pid: number): Record<string, number> {
  const out: Record<string, number> = { user: 0, sys: 0, main: 0, others: 0 };
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const t = procStat(`/proc/${pid}/task/${tid}/stat`);
    out.user += t.user;
    out.sys += t.sys;
    out[Number(tid) === pid ? 'main' : 'others'] += t.user + t.sys;
  }
  return out;
}

/** PostgreSQL's processes by what they are (a backend of the probe's database, the WAL writer…), user and system. */
function postgresCpu(): Map<string, number> {
  const out = new Map<string, number>();
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const what = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      if (!what.startsWith('postgres')) continue;
      // A backend's title ends with its client and what it does now: the same kind whatever those are.
      const as = what.replace(/ \d+\.\d+\.\d+\.\d+\(\d+\).*$/, '');
      const t = procStat(`/proc/${pid}/stat`);
      out.set(`${as}, user`, (out.get(`${as}, user`) ?? 0) + t.user);
      out.set(`${as}, system`, (out.get(`${as}, system`) ?? 0) + t.sys);
    } catch {
      // Ended between the listing and the read.
    }
  }
  return out;
}

const requestsOf = (tokens: readonly string[]): Request[] => {
  const isCreate = (r: Request) => r.method === 'POST' && r.path === '/api/v1/api-keys';
  const me = (r: Request): Request => ({ method: 'GET', path: '/api/v1/users/me', headers: { authorization: r.headers.authorization } });
  const first = tokens.slice(0, 50);
  const all = mix(first);
  if (kind === 'nocreate') return all.map((r) => (isCreate(r) ? me(r) : r));
  if (kind === 'nolist') return all.map((r) => (r.path.startsWith('/api/v1/api-keys?') ? me(r) : r));
  if (kind === 'createonly') return all.filter(isCreate);
  if (kind === 'othercreates')
    return all.map((r) => (isCreate(r) ? { ...r, headers: { ...r.headers, authorization: `Bearer ${tokens[50 + first.findIndex((t) => r.headers.authorization === `Bearer ${t}`)]}` } } : r));
  return all;
};

const perfDir = opts.perf === undefined ? undefined : resolve(opts.perf);
if (perfDir) mkdirSync(perfDir, { recursive: true });
let measured = 0;
const server = await startPostgres();
const children: ChildProcess[] = [];
killedOnExit(children);
const postgres = (url: string) => {
  const c = new pg.Client(url);
  // The server stopping under a connection at the end is not this probe's failure.
  c.on('error', () => undefined);
  return c;
};
try {
  await withStatementStats(server);
  const built = buildStore(1000);
  const url = await postgresCopyOf(server.url, 'keyward_mix_probe', built);
  const db = postgres(url);
  await db.connect();
  await db.query('CREATE EXTENSION pg_stat_statements');

  const serve = () => {
    const flags = [...(opts.profile ? ['--cpu-prof', `--cpu-prof-dir=${opts.profile}`] : []), ...(perfDir ? PERF_NODE_FLAGS : [])];
    // Under perf, each server writes its jitdump into its working directory.
    const child = spawn(process.execPath, [...flags, keywardBin, 'serve', '--port', '0', '--store', url], { stdio: ['ignore', 'ignore', 'pipe'], ...(perfDir ? { cwd: perfDir } : {}) });
    children.push(child);
    return announcedUrl(child).url;
  };
  const servers = await Promise.all([serve(), serve()]);
  const pids = children.map((c) => c.pid!);
  const requests = requestsOf(built.tokens);
  const load = (seconds: number) =>
    Promise.all((opts.one ? servers.slice(0, 1) : servers).map((s) => autocannon({ url: s, connections: Number(opts.connections), duration: seconds, requests, ...(opts.rate ? { overallRate: Number(opts.rate) } : {}) })));

  // Warmed in two runs, so the servers have seen a set of connections close before the measured run:
  // the first sockets to close change the maps of node's socket and stream objects, and every optimized
  // function that had seen only the old ones deoptimizes — dozens of them, then compiled again,
  // which took the measured run's first seconds when it came right after a warm-up of one run.
  await load(Number(opts.warm) / 2);
  await load(Number(opts.warm) / 2);
  await db.query('SELECT pg_stat_statements_reset()');
  const [serversBefore, postgresBefore, at] = [pids.map(serverCpu), postgresCpu(), performance.now()];
  const perf = perfDir ? recordPerf(perfDir, pids, Number(opts.seconds)) : undefined;
  const measuring = load(Number(opts.seconds));
  const waits: Promise<WaitSamples> | undefined = opts.waits ? sampleWaits(url, measuring) : undefined;
  const runs = await measuring;
  if (perf && perf.exitCode === null) await new Promise((done) => perf.once('exit', done));
  const [serversAfter, postgresAfter, seconds] = [pids.map(serverCpu), postgresCpu(), (performance.now() - at) / 1000];

  const n = runs.reduce((sum, r) => sum + r.requests.total, 0);
  measured = n;
  const per = (us: number) => (us / n).toFixed(1).padStart(7);
  console.log(`${kind}: ${n} requests in ${seconds.toFixed(1)} s, ${Math.round(n / seconds)}/s (non-2xx ${runs.map((r) => r.non2xx).join(', ')}); CPU in µs per request:`);
  pids.forEach((_, i) => {
    const d = (k: string) => serversAfter[i][k] - serversBefore[i][k];
    console.log(`  server ${i + 1}: ${per(d('user') + d('sys'))} (user ${per(d('user')).trim()}, system ${per(d('sys')).trim()}; main thread ${per(d('main')).trim()}, others ${per(d('others')).trim()})`);
  });
  let pgTotal = 0;
  const pgRows = [...postgresAfter].map(([k, v]) => [k, v - (postgresBefore.get(k) ?? 0)] as const).filter(([, v]) => v > 0);
  for (const [, v] of pgRows) pgTotal += v;
  console.log(`  PostgreSQL: ${per(pgTotal)}`);
  for (const [k, v] of pgRows.sort((a, b) => b[1] - a[1])) console.log(`    ${per(v)}  ${k}`);
  console.log((await slowestStatements(db)).join('\n'));
  if (waits) console.log(waitLines(await waits).join('\n'));
  await db.end();
} finally {
  await Promise.all(children.map((c) => new Promise((done) => (c.exitCode !== null ? done(undefined) : (c.once('exit', done), c.kill('SIGTERM'))))));
  await server.destroy();
}
// Once the servers have stopped: their jitdumps are whole.
if (perfDir && measured > 0) console.log(perfSummary(perfDir, measured).join('\n'));
