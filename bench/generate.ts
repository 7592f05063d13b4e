// Generating one key in a 1k-, 10k- and 100k-key store, beside the bare
// rewrite of the same document measured in the same run. The engine's
// generate takes the cross-process lock, checks the policy, writes a private
// temporary file, fsyncs it, renames it, fsyncs the directory and appends the
// event; the baselines are the unavoidable part: JSON.stringify + write +
// rename (the bare rewrite), and the same with the one fsync that
// crash safety needs.
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

for (const size of [1000, 10_000, 100_000]) {
  const built = buildStore(size);
  const engine = createEngine(createJsonFileStore(built.path), { usageFlushMs: 0 });
  const admin = engine.as('admin');
  await admin.listKeys({ limit: 1 }); // load the document once, as a running process has it
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
  await engine.close();
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
