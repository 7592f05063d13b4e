// SIGKILL at any moment — mid-append, mid-compaction — never leaves a store
// that does not open, and never loses an acknowledged change: real writer
// processes on one store, killed round after round at moments that vary.
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS } from '../../src/domain.js';
import { createJsonFileStore } from '../../src/store/json/store.js';
import { startChild } from '../child.js';
import { key, user } from '../conformance/records.js';

const writer = fileURLToPath(new URL('./crash-writer.ts', import.meta.url));

const start = (path: string, prefix: string, mode: string) => startChild(writer, [path, prefix, mode]);

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setTimeout(r, 5));
}

describe('JSON store under SIGKILL', () => {
  it('opens with every acknowledged key after writers are killed mid-append and mid-compaction', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'keyward-crash-')), 'store.json');
    const setup = createJsonFileStore(path, { onProblem: () => {} });
    await setup.create({ tenant: { id: 't', name: 'n', created: '', settings: DEFAULT_SETTINGS }, users: [user('alice', true), user('bob')], events: [] });
    // A snapshot big enough that a compaction takes a while to write.
    await setup.transact((tx) => {
      for (let i = 0; i < 3000; i++) tx.putKey(key(100_000 + i, { owner: 'bob' }));
    });
    await setup.close();
    const acked = new Set<string>();
    const rounds = 8;
    for (let round = 0; round < rounds; round++) {
      const a = start(path, `a${round}x`, 'compact');
      const b = start(path, `b${round}x`, round % 2 ? 'compact' : 'append');
      await until(() => a.acked.length >= 3 && b.acked.length >= 3);
      await new Promise((r) => setTimeout(r, 5 + round * 11));
      a.child.kill('SIGKILL');
      await new Promise((r) => setTimeout(r, 1 + round * 3));
      b.child.kill('SIGKILL');
      await Promise.all([a.exited, b.exited]);
      for (const id of [...a.acked, ...b.acked]) acked.add(id);
      const check = createJsonFileStore(path, { onProblem: () => {} });
      for (const id of acked) expect(await check.getKey(id), `acknowledged key ${id} lost in round ${round}`).toBeDefined();
      expect((await check.keysOf('bob')).length).toBeGreaterThanOrEqual(3000 + acked.size);
      await check.close();
    }
    // A writer after the crashes takes the dead writers' lock and removes their temporary files.
    const after = createJsonFileStore(path, { onProblem: () => {} });
    await after.transact((tx) => tx.putKey(key(7)));
    await after.close();
    expect(readdirSync(dirname(path)).filter((n) => n.endsWith(".tmp") || n.includes(".lock")), readdirSync(dirname(path)).join(" ")).toEqual([]);
  }, 120_000);
});
