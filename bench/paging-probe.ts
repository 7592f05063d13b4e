// What paging through a long history costs on the JSON store, and what a
// copy of the whole store costs: `node --import tsx bench/paging-probe.ts
// [EVENTS]` (1M by default; build keyward first: node scripts/build.mjs).
// Prints figures only; not a `pnpm bench` measure (no goal names them). On
// one history (bench/fixtures.ts buildHistory, 20 busy keys, about six days
// at 1M):
//   - a page of 20 events: the first, and one a third of the way back, after
//     a cursor the same handle gave (remembered where it is) and another's,
//     before and after the days are indexed (a search that reads a closed day
//     through leaves its index);
//   - the whole history paged through 1000 at a time, newest first, and
//     oldest first as a copy reads it;
//   - `keyward store copy` of it to a new JSON store: wall time, peak RSS
//     (KEYWARD_BIN=…/keyward.js copies with another build).
// BENCHMARKS.md's notes hold the figures and what they were before.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from '../packages/core/src/index.js';
import { eventPagesOldestFirst } from '../packages/core/src/store/all-events.js';
import { buildHistory, buildStore } from './fixtures.js';
import { median } from './lib.js';

// KEYWARD_BIN: another build of `keyward` to copy with (an older one, for a before/after).
const keywardBin = process.env.KEYWARD_BIN ?? fileURLToPath(new URL('../packages/cli/dist/keyward.js', import.meta.url));
const events = Number(process.argv[2] ?? 1_000_000);
const built = buildStore(20, 20);
process.on('exit', () => rmSync(dirname(built.path), { recursive: true, force: true }));
let t = performance.now();
await buildHistory(events, { keyIds: Object.keys(built.doc.keys), storePath: built.path });
process.stderr.write(`built ${events} events in ${((performance.now() - t) / 1000).toFixed(1)} s\n`);

const store = await openStore(built.path);
/** Median ms of `n` runs of `fn`. */
async function ms(fn: () => Promise<unknown>, n = 7): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    await fn();
    xs.push(performance.now() - s);
  }
  return median(xs);
}
// A cursor a third of the way back: paged to through the boundary as a client does.
let page = await store.findEvents({ limit: 1000 });
for (let i = 0; i < Math.floor(events / 3000); i++) page = await store.findEvents({ limit: 1000, startingAfter: page.data[page.data.length - 1].id });
const deep = page.data[page.data.length - 1].id;
const first = await ms(() => store.findEvents({ limit: 20 }));
// The cursor ended a page this handle gave (event-segments.ts cursorPlaces), and one it did not: another process's, as a
// server restarted or one behind a load balancer gets it.
const remembered = await ms(() => store.findEvents({ limit: 20, startingAfter: deep }));
const other = await openStore(built.path);
const unindexed = await ms(() => other.findEvents({ limit: 20, startingAfter: deep }));
await other.close();

t = performance.now();
let n = 0;
for (let p = await store.findEvents({ limit: 1000 }); ; p = await store.findEvents({ limit: 1000, startingAfter: p.data[p.data.length - 1].id })) {
  n += p.data.length;
  if (!p.hasNext) break;
}
const whole = performance.now() - t;
t = performance.now();
let oldestFirst = 0;
for await (const p of eventPagesOldestFirst(store, {}, 1000)) oldestFirst += p.length;
const wholeOldestFirst = performance.now() - t;
// A search that matches nothing reads every closed day through, leaving its index.
await store.findEvents({ limit: 20, keyId: 'no-such-key' });
const indexed = await ms(() => store.findEvents({ limit: 20, startingAfter: deep }));
await store.close();

t = performance.now();
const copy = spawnSync('/usr/bin/time', ['-f', 'PEAK_RSS_KB %M', process.execPath, keywardBin, 'store', 'copy', '--from', built.path, '--to', join(dirname(built.path), 'copy.json')], { encoding: 'utf8' });
const copySeconds = (performance.now() - t) / 1000;
const copyPeakKb = Number(/PEAK_RSS_KB (\d+)/.exec(copy.stderr)?.[1] ?? NaN);

console.log(`history: ${n} events`);
console.log(`first page of 20: ${first.toFixed(1)} ms`);
console.log(`page of 20 a third back: ${remembered.toFixed(1)} ms after a cursor this handle gave; ${unindexed.toFixed(1)} ms after another's, unindexed, ${indexed.toFixed(1)} ms indexed`);
console.log(`whole history, pages of 1000: ${(whole / 1000).toFixed(1)} s newest first, ${(wholeOldestFirst / 1000).toFixed(1)} s oldest first (${oldestFirst} events)`);
console.log(`keyward store copy to a JSON store: exit ${copy.status}, ${copySeconds.toFixed(0)} s, peak RSS ${Math.round(copyPeakKb / 1024)} MB`);
