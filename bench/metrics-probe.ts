// What counting every answer for GET /metrics costs a server (`keyward serve --metrics-port`):
// `node --import tsx bench/metrics-probe.ts` (build keyward first: node scripts/build.mjs). Two servers on
// one JSON store of 1k keys, one with --metrics-port 0 and one without; GET /api/v1/users/me from 50 tokens,
// 16 connections, seven alternated 3 s rounds after a warm-up. Prints figures only; not a `pnpm bench` measure.
import { spawn } from 'node:child_process';
import autocannon from 'autocannon';
import { announcedUrl } from '../test/support/announced-url.js';
import { buildStore } from './fixtures.js';
import { interleavedAsync, killedOnExit, median } from './lib.js';
const bin = new URL('../packages/cli/dist/keyward.js', import.meta.url).pathname;
const built = buildStore(1000);
const children: ReturnType<typeof spawn>[] = [];
killedOnExit(children);
const serve = (extra: string[]) => {
  const c = spawn(process.execPath, [bin, 'serve', '--port', '0', '--store', built.path, ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(c);
  return announcedUrl(c).url;
};
const [on, off] = [await serve(['--metrics-port', '0']), await serve([])];
const requests = built.tokens.slice(0, 50).map((t) => ({ method: 'GET' as const, path: '/api/v1/users/me', headers: { authorization: `Bearer ${t}` } }));
const load = async (url: string, seconds: number) => {
  const r = await autocannon({ url, connections: 16, duration: seconds, requests });
  return r.requests.total / r.duration;
};
await load(on, 3);
await load(off, 3);
const rounds: { on: number; off: number }[] = [];
for (let i = 0; i < 7; i++) rounds.push(await interleavedAsync(1, { on: () => load(on, 3), off: () => load(off, 3) }));
const ratios = rounds.map((r) => r.on / r.off);
console.log('with metrics, req/s:   ', rounds.map((r) => Math.round(r.on)).join(' '));
console.log('without metrics, req/s:', rounds.map((r) => Math.round(r.off)).join(' '));
console.log('median on/off', median(ratios).toFixed(3), 'median on', Math.round(median(rounds.map((r) => r.on))), 'off', Math.round(median(rounds.map((r) => r.off))));
for (const c of children) c.kill('SIGTERM');
