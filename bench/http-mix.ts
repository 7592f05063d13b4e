// `keyward serve` — the real command, built as shipped (packages/cli/dist) —
// under a mixed load from autocannon, beside the bare node:http floor of
// bench/http-mix-bare.mjs, same load generator, rounds interleaved. The mix
// (bench/http-mix-load.ts), of every 20 requests: 7 authenticated reads of
// GET /api/v1/users/me, 5 of GET /api/v1/api-keys?limit=20, 7 verifies
// (POST /api/v1/api-keys/verify) and 1 create (POST /api/v1/api-keys).
// Keyward also routes, checks the policy, builds the wire shapes, writes its request log and — for each
// create — takes the store lock, rewrites and fsyncs the document and appends
// the event, which the floor does not. (bench/http.ts measures reads alone.)
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildStore } from './fixtures.js';
import { allAnswered, autocannon, mix, startBare } from './http-mix-load.js';
import { interleavedAsync, quick, report } from './lib.js';
import { announcedUrl } from '../test/support/announced-url.js';

const ROUND_SECONDS = quick ? 1.5 : 5;
const ROUNDS = quick ? 3 : 5;
const CONNECTIONS = 16;
const keywardBin = fileURLToPath(new URL('../packages/cli/dist/keyward.js', import.meta.url));
if (!existsSync(keywardBin)) throw new Error(`${keywardBin} is missing; run node scripts/build.mjs`);

const built = buildStore(1000);
const tokens = built.tokens.slice(0, 50);

async function startKeyward(): Promise<{ child: ChildProcess; url: string }> {
  // The request log goes to /dev/null: written, as in production, but not read.
  const child = spawn(process.execPath, [keywardBin, 'serve', '--port', '0', '--store', built.path], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, KEYWARD_USER: 'admin' } });
  return { child, url: await announcedUrl(child).url };
}

const p99 = { keyward: [] as number[], bare: [] as number[], durable: [] as number[] };
async function load(name: keyof typeof p99, url: string, seconds: number): Promise<number> {
  const r = allAnswered(name, await autocannon({ url, connections: CONNECTIONS, duration: seconds, requests: mix(tokens) }));
  p99[name].push(r.latency.p99);
  return r.requests.total / r.duration;
}

const keyward = await startKeyward();
const bare = await startBare(built.path, false);
const durable = await startBare(built.path, true);
try {
  await load('keyward', keyward.url, 1); // warm up all three
  await load('bare', bare.url, 1);
  await load('durable', durable.url, 1);
  p99.keyward.length = p99.bare.length = p99.durable.length = 0;
  const r = await interleavedAsync(ROUNDS, {
    keyward: () => load('keyward', keyward.url, ROUND_SECONDS),
    bare: () => load('bare', bare.url, ROUND_SECONDS),
    durable: () => load('durable', durable.url, ROUND_SECONDS),
  });
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  report({
    measure: 'HTTP mixed load requests/s (reads, verifies, 5% creates; 1k keys)',
    value: Math.round(r.keyward),
    baseline: Math.round(r.bare),
    unit: 'req/s',
    ratio: r.keyward / r.bare,
    goal: 'report',
    against: 'bare node:http: SHA-256 of the bearer + Map lookup (and of the verified token; a Map insert per create), same autocannon mix',
  });
  report({
    measure: 'HTTP mixed load vs durable floor',
    value: Math.round(r.keyward),
    baseline: Math.round(r.durable),
    unit: 'req/s',
    ratio: r.keyward / r.durable,
    goal: '>= 0.5',
    against: 'the same bare server, whose creates also append the hash to a file and fsync it',
  });
  report({
    measure: 'HTTP mixed load p99 vs durable floor',
    value: median(p99.keyward),
    baseline: median(p99.durable),
    unit: 'ms',
    ratio: median(p99.keyward) / median(p99.durable),
    goal: '<= 3',
    against: `the durable floor's p99, ${CONNECTIONS} connections (ratio = Keyward p99 / floor p99)`,
  });
} finally {
  keyward.child.kill('SIGTERM');
  bare.child.disconnect();
  durable.child.disconnect();
}
