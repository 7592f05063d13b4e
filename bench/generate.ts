// Generating one key in a 1k-, 10k- and 100k-key store, beside the bare
// rewrite of the same document measured in the same run, and the cost of a
// create in the 100k-key store against the 1k-key one, interleaved (issue 9:
// a change costs the same with 1k keys or 100k). The engine's generate takes
// the cross-process lock, checks the policy, appends one journal record (the
// key and its event) with an fsync and copies its event to the day segment; the
// baselines are what round 1 paid per change: JSON.stringify + write + rename
// of the whole document, and the same with one fsync.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { createEngine, createJsonFileStore } from '@keyward/core';
import { buildStore } from './fixtures.js';
import { interleavedAsync, quick, report } from './lib.js';

function rewrite(path: string, durable: boolean): number {
  const doc = JSON.parse(readFileSync(path, 'utf8'));
  const t = process.hrtime.bigint();
  const tmp = path + '.baseline.tmp';
  const fd = openSync(tmp, 'w', 0o600);
  writeSync(fd, JSON.stringify(doc));
  if (durable) fsyncSync(fd);
  closeSync(fd);
  renameSync(tmp, path + '.baseline.json');
  return Number(process.hrtime.bigint() - t) / 1e6;
}

const kept = new Map<number, { engine: ReturnType<typeof createEngine>; generate: () => Promise<unknown> }>();
let made = 0;
for (const size of [1000, 10_000, 100_000]) {
  const built = buildStore(size);
  const engine = createEngine(createJsonFileStore(built.path), { usageFlushMs: 0 });
  const admin = engine.as('admin');
  await admin.listKeys({ limit: 1 }); // load the store once (migrating the fixture's round-1 document), as a running process has it
  const reps = size >= 100_000 ? 3 : 10;
  const rounds = quick ? 3 : 5;
  let n = 0;
  const time = async (fn: () => Promise<unknown> | unknown) => {
    const t = process.hrtime.bigint();
    for (let i = 0; i < reps; i++) await fn();
    return Number(process.hrtime.bigint() - t) / 1e6 / reps;
  };
  // The baseline re-parses outside its timed part, so only its rewrite is counted.
  const rewrites = async (durable: boolean) => {
    let ms = 0;
    for (let i = 0; i < reps; i++) ms += rewrite(built.path, durable);
    return ms / reps;
  };
  const r = await interleavedAsync(rounds, {
    keyward: () => time(() => admin.generateKey({ description: `bench ${n++}` })),
    bare: () => rewrites(false),
    durable: () => rewrites(true),
  });
  report({
    measure: `generate one key, ${size / 1000}k-key store (ms)`,
    value: round(r.keyward),
    baseline: round(r.bare),
    unit: 'ms',
    ratio: r.keyward / r.bare,
    goal: '<= 2',
    against: 'JSON.stringify + write + rename of the same document',
  });
  report({
    measure: `generate one key, ${size / 1000}k-key store, vs durable rewrite (ms)`,
    value: round(r.keyward),
    baseline: round(r.durable),
    unit: 'ms',
    ratio: r.keyward / r.durable,
    goal: '<= 2',
    against: 'JSON.stringify + write + fsync + rename of the same document',
  });
  if (size === 1000 || size === 100_000) kept.set(size, { engine, generate: () => admin.generateKey({ description: `bench ${made++}` }) });
  else await engine.close();
}

// Time per create in the 100k-key store against the 1k-key store, rounds interleaved.
const per = (g: () => Promise<unknown>) => async () => {
  const reps = quick ? 20 : 50;
  const t = process.hrtime.bigint();
  for (let i = 0; i < reps; i++) await g();
  return Number(process.hrtime.bigint() - t) / 1e6 / reps;
};
const small = kept.get(1000)!;
const large = kept.get(100_000)!;
const sizes = await interleavedAsync(quick ? 5 : 9, { large: per(large.generate), small: per(small.generate) });
report({
  measure: 'create, 100k-key store vs 1k-key store',
  value: round(sizes.large),
  baseline: round(sizes.small),
  unit: 'ms',
  ratio: sizes.large / sizes.small,
  goal: '<= 1.3',
  against: 'the same create (engine generateKey, fsynced) in a 1k-key store, interleaved rounds',
});
await small.engine.close();
await large.engine.close();

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
