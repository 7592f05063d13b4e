// A full disk is a refusal, never a broken store: on a real tmpfs with less
// room than a change needs (but more than none, so writes come back short),
// every commit either succeeds or is refused with UNAVAILABLE; the journal is
// left as it was after each refusal; reopening finds every acknowledged
// change and nothing else; no lock or temporary file stays behind.
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KeywardError } from '../../src/refusal.js';
import { Journal } from '../../src/store/json/journal.js';
import { CounterModel, type SetEntry } from './counter-model.js';
import { fillDisk, mountSmallDisk } from './small-disk.js';

const disk = mountSmallDisk(256);
afterAll(() => {
  if ('dir' in disk) disk.unmount();
});

describe('journal on a full disk', () => {
  it.skipIf('refused' in disk)(`commits or refuses every change and reopens with every acknowledged one${'refused' in disk ? ` — SKIPPED: ${disk.refused}` : ''}`, async () => {
    const dir = (disk as { dir: string }).dir;
    const path = join(dir, 'store.json');
    const model = new CounterModel();
    const j = new Journal<SetEntry>(path, model, { onProblem: () => {}, compactAfterBytes: 16 << 10 });
    await j.ensureCreated();
    const spare = fillDisk(dir, 12);
    const acked = new Map<string, number>();
    let refused = 0;
    for (let i = 0; i < 60; i++) {
      // Each change is bigger than a page remainder, so it is often cut short.
      const key = `k${i}-${'x'.repeat(2500)}`;
      try {
        await j.commit(() => ({ entry: { set: key, to: i }, result: i }));
        acked.set(key, i);
      } catch (e) {
        expect(e).toBeInstanceOf(KeywardError);
        expect((e as KeywardError).code).toBe('UNAVAILABLE');
        refused++;
      }
      if (i % 5 === 4 && spare.length > 0) rmSync(spare.pop()!);
    }
    await new Promise((r) => setTimeout(r, 50)); // a compaction may have been tried
    await j.close();
    expect(acked.size).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
    const leftovers = readdirSync(dir).filter((n) => !/^(slack-\d+|filler|store\.json|store\.journal)$/.test(n));
    expect(leftovers).toEqual([]);
    const again = new CounterModel();
    const reopened = new Journal<SetEntry>(path, again, { onProblem: () => {} });
    await reopened.fresh();
    expect(new Map(Object.entries(again.items))).toEqual(acked);
    await reopened.close();
  });
});
