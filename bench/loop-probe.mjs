// Preloaded into a `keyward serve` by bench/compaction.ts (node --import):
// notes every stretch the event loop was held longer than BLOCK_MS (a 2 ms
// timer that came late) and every GC pause, with wall-clock times, and sends
// them over the IPC channel when asked ('report'), then forgets them.
import { PerformanceObserver, performance } from 'node:perf_hooks';

const TICK_MS = 2;
// The shortest block noted: bench/compaction.ts says it (LOOP_PROBE_BLOCK_MS), and floors its baseline there.
const BLOCK_MS = Number(process.env.LOOP_PROBE_BLOCK_MS);
const wall = (t) => performance.timeOrigin + t;
let blocks = [];
let gcs = [];
let last = performance.now();
setInterval(() => {
  const now = performance.now();
  if (now - last > TICK_MS + BLOCK_MS) blocks.push({ at: wall(last), ms: now - last - TICK_MS });
  last = now;
}, TICK_MS).unref();
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcs.push({ at: wall(e.startTime), ms: e.duration, kind: e.detail?.kind });
}).observe({ entryTypes: ['gc'] });
process.on('message', (m) => {
  if (m !== 'report') return;
  process.send({ blocks, gcs });
  blocks = [];
  gcs = [];
});
process.channel?.unref();
