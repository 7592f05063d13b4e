// A transaction's events are durable with its journal record, and copied to
// the day segments afterwards without an fsync of their own. A crash between
// the two, or a power cut before the copy reached the disk, must not lose an
// event, nor copy one twice: real writer processes killed with SIGKILL at
// exactly those points, then the store reopened (or written by a process that
// outlived the writer), must show every committed key's event exactly once.
import { readFileSync, readlinkSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { DEFAULT_SETTINGS } from '../../src/domain.js';
import type { Store } from '../../src/store/boundary.js';
import { checkedLine, parseCheckedLine } from '../../src/store/json/checked-line.js';
import { dayOf } from '../../src/store/json/days.js';
import { EventSegments } from '../../src/store/json/event-segments.js';
import { JournalFile } from '../../src/store/json/journal-file.js';
import { createJsonFileStore } from '../../src/store/json/store.js';
import { startChild } from '../child.js';
import { event, key, user } from '../conformance/records.js';
import { holdBack } from './held-back.js';

const writer = fileURLToPath(new URL('./event-copy-writer.ts', import.meta.url));

async function newStore(): Promise<string> {
  const path = join(mkdtempSync(join(tmpdir(), 'keyward-copy-')), 'store.json');
  const s = createJsonFileStore(path, { onProblem: () => {} });
  await s.create({ tenant: { id: 't', name: 'n', created: '', settings: DEFAULT_SETTINGS }, users: [user('alice', true), user('bob')], events: [] });
  await s.close();
  return path;
}

/** How many `api-key.generated` events each key has, paging through all of them. */
async function generatedPerKey(store: Store): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  let after: string | undefined;
  for (;;) {
    const page = await store.findEvents({ types: ['api-key.generated'], limit: 50, startingAfter: after });
    for (const e of page.data) counts.set(e.keyId!, (counts.get(e.keyId!) ?? 0) + 1);
    if (!page.hasNext) return counts;
    after = page.data.at(-1)!.id;
  }
}

async function expectEachKeyOnce(store: Store, acked: string[]): Promise<string[]> {
  const keys = (await store.keysOf('bob')).map((k) => k.id).sort();
  for (const id of acked) expect(keys).toContain(id);
  const counts = await generatedPerKey(store);
  expect([...counts.keys()].sort()).toEqual(keys);
  for (const [id, n] of counts) expect(n, `events of key ${id}`).toBe(1);
  return keys;
}

async function crashWriter(path: string, prefix: string, at: 'record' | 'copies', after: number): Promise<string[]> {
  const c = startChild(writer, [path, prefix, at, String(after)]);
  expect(await c.exited).toBeNull(); // killed by its own SIGKILL, not exited
  expect(c.acked.length).toBe(after - 1);
  return c.acked;
}

interface Mark {
  position: number;
  sizes: Record<string, number>;
}
const markOf = (path: string) => parseCheckedLine(readFileSync(path.replace(/\.json$/, '.events/journal-copied'), 'utf8').split('\n')[0]!) as { boot: string; copied: Mark; durable: Mark };

/** A power cut: what was not fsynced is gone from today's segment, and the machine booted again. */
function powerCut(path: string): void {
  const mark = markOf(path);
  expect(mark).toBeDefined();
  const day = dayOf(Date.now());
  expect(mark.durable.sizes[day]).toBeGreaterThan(0);
  truncateSync(path.replace(/\.json$/, `.events/${day}.jsonl`), mark.durable.sizes[day]);
  writeFileSync(path.replace(/\.json$/, '.events/journal-copied'), checkedLine({ ...mark, boot: 'a-boot-before-the-power-cut' }) + '\n');
}

describe('events of journal records, copied to their day segments', () => {
  for (const at of ['record', 'copies'] as const) {
    it(`reopens with every committed key's event exactly once after SIGKILL ${at === 'record' ? 'between the journal fsync and the segment write' : 'between the segment write and its mark'}`, async () => {
      const path = await newStore();
      const acked = await crashWriter(path, 'a', at, 6);
      const again = createJsonFileStore(path, { onProblem: () => {} });
      const keys = await expectEachKeyOnce(again, acked);
      // The crashed create's record was durable: its key is there, and so is its event.
      expect(keys.length).toBe(acked.length + 1);
      // And the next writer's own events follow, once each.
      await again.transact((tx) => {
        const k = key(0, { id: 'f'.repeat(24), owner: 'bob' });
        tx.putKey(k);
        tx.emit(event('api-key.generated', Date.now(), 'bob', k.id));
      });
      await expectEachKeyOnce(again, acked);
      await again.close();
    }, 60_000);
  }

  it('a store from before copy marks (no journal-copied) keeps the events of a first create killed between the journal fsync and the segment write', async () => {
    const path = await newStore();
    rmSync(path.replace(/\.json$/, '.events/journal-copied'));
    await crashWriter(path, 'a', 'record', 1);
    const again = createJsonFileStore(path, { onProblem: () => {} });
    await again.transact((tx) => {
      const k = key(0, { id: 'f'.repeat(24), owner: 'bob' });
      tx.putKey(k);
      tx.emit(event('api-key.generated', Date.now(), 'bob', k.id));
    });
    expect((await expectEachKeyOnce(again, [])).length).toBe(2);
    await again.close();
  }, 60_000);

  it('a process that outlived the crashed writer copies its events with its own next change', async () => {
    const path = await newStore();
    const survivor = createJsonFileStore(path, { onProblem: () => {} });
    await survivor.keysOf('bob'); // loaded before the crash, so only its commit can notice
    const acked = await crashWriter(path, 'b', 'record', 4);
    const k = key(0, { id: 'e'.repeat(24), owner: 'bob' });
    await survivor.transact((tx) => {
      tx.putKey(k);
      tx.emit(event('api-key.generated', Date.now(), 'bob', k.id));
    });
    expect((await expectEachKeyOnce(survivor, acked)).length).toBe(acked.length + 2);
    await survivor.close();
  }, 60_000);

  it('after a power cut, copies that never reached the disk are made again from the journal, once each', async () => {
    const path = await newStore();
    const store = createJsonFileStore(path, { onProblem: () => {} }) as ReturnType<typeof createJsonFileStore> & { compact(): Promise<void> };
    const put = (i: number) =>
      store.transact((tx) => {
        const k = key(0, { id: `c${i}`.padStart(24, '0'), owner: 'bob' });
        tx.putKey(k);
        tx.emit(event('api-key.generated', Date.now(), 'bob', k.id));
      });
    for (let i = 0; i < 3; i++) await put(i);
    await store.compact(); // the copies so far fsynced, and marked durable
    for (let i = 3; i < 7; i++) await put(i);
    await store.close();
    powerCut(path);
    const again = createJsonFileStore(path, { onProblem: () => {} });
    expect((await expectEachKeyOnce(again, [])).length).toBe(7);
    await again.close();
  }, 60_000);

  it('fsyncs the copies in the background a while after a commit, without waiting for a compaction', async () => {
    const path = await newStore();
    const store = createJsonFileStore(path, { onProblem: () => {}, settleAfterMs: 50 });
    for (let i = 0; i < 3; i++) {
      await store.transact((tx) => {
        const k = key(0, { id: `d${i}`.padStart(24, '0'), owner: 'bob' });
        tx.putKey(k);
        tx.emit(event('api-key.generated', Date.now(), 'bob', k.id));
      });
    }
    for (let waited = 0; markOf(path).durable.position < markOf(path).copied.position && waited < 3000; waited += 20) await new Promise((r) => setTimeout(r, 20));
    expect(markOf(path).durable).toEqual(markOf(path).copied);
    await store.close();
    powerCut(path); // loses nothing now: everything was durable
    const again = createJsonFileStore(path, { onProblem: () => {} });
    expect((await expectEachKeyOnce(again, [])).length).toBe(3);
    await again.close();
  }, 60_000);

  it("copies a commit's events with one write: the segment's size is asked once per mark, and the mark says where the copies end", async () => {
    const path = await newStore();
    const store = createJsonFileStore(path, { onProblem: () => {}, holdLockMs: 600_000 });
    await store.tenant();
    // Stats of a day segment's handle, told apart by what the kernel says the handle is.
    const probe = await open(path, 'r');
    const handles = Object.getPrototypeOf(probe) as FileHandle;
    await probe.close();
    const original = handles.stat;
    let stats = 0;
    const stat = vi.spyOn(handles, 'stat').mockImplementation(function (this: FileHandle, ...args: Parameters<FileHandle['stat']>) {
      if (readlinkSync(`/proc/self/fd/${this.fd}`).endsWith('.jsonl')) stats++;
      return original.apply(this, args);
    } as FileHandle['stat']);
    const segmentStats = () => stats;
    for (let i = 0; i < 5; i++) {
      await store.transact((tx) => {
        const k = key(0, { id: `e${i}`.padStart(24, '0'), owner: 'bob' });
        tx.putKey(k);
        tx.emit(event('api-key.generated', Date.now(), 'bob', k.id));
      });
    }
    expect(segmentStats()).toBe(0);
    await store.close(); // gives the lock back: the mark is written
    expect(segmentStats()).toBe(1);
    stat.mockRestore();
    const day = dayOf(Date.now());
    expect(markOf(path).copied.sizes[day]).toBe(statSync(path.replace(/\.json$/, `.events/${day}.jsonl`)).size);
    const again = createJsonFileStore(path, { onProblem: () => {} });
    expect((await expectEachKeyOnce(again, [])).length).toBe(5);
    await again.close();
  }, 60_000);

  it("a commit is answered once its events are copied, and the next commit's record is appended while that copy is made", async () => {
    const path = await newStore();
    const store = createJsonFileStore(path, { onProblem: () => {} });
    try {
      await store.tenant();
      const create = (i: number) =>
        store.transact((tx) => {
          const k = key(0, { id: `c${i}`.padStart(24, '0'), owner: 'bob' });
          tx.putKey(k);
          tx.emit(event('api-key.generated', Date.now(), 'bob', k.id));
        });
      // The first commit's copy is held back.
      const { release } = holdBack(EventSegments.prototype, 'appendCopies', { once: true });
      const appends = vi.spyOn(JournalFile.prototype, 'append');
      let firstAnswered = false;
      const first = create(1).then(() => (firstAnswered = true));
      await expect.poll(() => appends.mock.calls.length, { timeout: 10_000 }).toBe(1);
      const second = create(2);
      // Before, the second commit's record waited for the first's copy.
      await expect.poll(() => appends.mock.calls.length, { timeout: 10_000 }).toBe(2);
      expect(firstAnswered).toBe(false);
      release();
      await Promise.all([first, second]);
      // Answered: an events list finds both.
      expect([...(await generatedPerKey(store)).keys()].sort()).toEqual([`c1`.padStart(24, '0'), `c2`.padStart(24, '0')]);
    } finally {
      vi.restoreAllMocks();
      await store.close();
    }
    const again = createJsonFileStore(path, { onProblem: () => {} });
    expect((await expectEachKeyOnce(again, [])).length).toBe(2);
    await again.close();
  });
});
