// A process's own commits cost it no catch-up: the watch event of its own
// append, heard while it still holds the lock, is nothing to look for, and a
// list right after its own create trusts the model the commit left. What must
// still hold: another process's append right after ours is in the next list.
import { mkdtempSync, readFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Store } from '../../src/store/boundary.js';
import { JournalFile } from '../../src/store/json/journal-file.js';
import { createJsonFileStore } from '../../src/store/json/store.js';
import { key, tenant, user } from '../conformance/records.js';
import { holdBack } from './held-back.js';
import { childWriter, listAtEachAck } from './lists-at-acks.js';

const open: Store[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function oneStore(holdLockMs?: number): Promise<{ store: Store; location: string }> {
  const location = join(mkdtempSync(join(tmpdir(), 'keyward-own-writes-')), 'store.json');
  // A long poll interval: only the watch wakes the follower during the test.
  const store = createJsonFileStore(location, { pollMs: 60_000, holdLockMs, onProblem: () => {} });
  open.push(store);
  await store.create({ tenant: tenant(), users: [user('alice', true), user('bob')], events: [] });
  await store.tenant();
  await store.tenant();
  return { store, location };
}

describe('JSON store: its own writes', () => {
  it('a list after each of its own creates looks at no journal file', async () => {
    const { store } = await oneStore();
    // A list's look is one fstat (unchangedAt); the catch-up when the lock is taken again reads (scan) once per create.
    const looks = vi.spyOn(JournalFile.prototype, 'unchangedAt');
    const scans = vi.spyOn(JournalFile.prototype, 'scan');
    const n = 20;
    for (let i = 0; i < n; i++) {
      const k = key(100 + i, { owner: 'bob', expiry: new Date(Date.now() + 86_400_000).toISOString() });
      await store.transact((tx) => tx.putKey(k));
      const page = await store.findKeys({ owner: 'bob', limit: 100, now: Date.now() });
      expect(page.data.map((x) => x.id)).toContain(k.id);
      // Let the lock go back and any late watch event arrive, as between requests.
      await new Promise((r) => setTimeout(r, 5));
    }
    // Before, every list looked (n looks); a watch event that arrives only after the lock went back still may.
    expect(looks.mock.calls.length).toBeLessThan(n / 2);
    expect(scans.mock.calls.length).toBeLessThanOrEqual(n + n / 2);
  });

  it("a list sees another process's append made right after ours", async () => {
    const { store, location } = await oneStore();
    const writer = childWriter(location, 'd', 30);
    let running = true;
    const exited = writer.exited.finally(() => (running = false));
    // This process creates keys as fast as it can meanwhile: the child's appends land right after ours.
    const own = (async () => {
      let i = 0;
      while (running) {
        const k = key(200 + (i++ % 500), { id: `e${i.toString(16)}`.padStart(24, '0'), owner: 'bob' });
        await store.transact((tx) => tx.putKey(k));
      }
      return i;
    })();
    const seen = listAtEachAck(writer, () => store.findKeys({ owner: 'bob', limit: 10_000, now: Date.now() }));
    expect(await exited).toBe(0);
    expect(await own).toBeGreaterThan(0);
    expect(await seen()).toBe(30);
  });

  it("a list asked while its commit group waits for the disk is answered without waiting for it: with another handle's acknowledged key, without the group's", async () => {
    const { store, location } = await oneStore();
    const other = createJsonFileStore(location, { pollMs: 60_000, onProblem: () => {} });
    open.push(other);
    const theirs = key(400, { owner: 'bob' });
    await other.transact((tx) => tx.putKey(theirs));
    // Our group's record is held back until the list has its answer.
    const { release } = holdBack(JournalFile.prototype, 'append');
    const ours = key(401, { owner: 'bob' });
    const committed = store.transact((tx) => tx.putKey(ours));
    let listed: string[] | undefined;
    void store.keysOf('bob').then((keys) => (listed = keys.map((k) => k.id)));
    // Before, the list's look queued behind the whole group, append included: it never came.
    await expect.poll(() => listed, { timeout: 10_000 }).toBeDefined();
    expect(listed).toEqual([theirs.id]);
    release();
    await committed;
    expect((await store.keysOf('bob')).map((k) => k.id).sort()).toEqual([theirs.id, ours.id]);
  });

  it('keeps the lock between its commits, and gives it back at once to another process that tries to take it', async () => {
    // A hold far longer than the test: the child gets the lock only because this process saw it ask.
    const { store, location } = await oneStore(600_000);
    await store.transact((tx) => tx.putKey(key(300, { owner: 'bob' })));
    await new Promise((r) => setTimeout(r, 20));
    // Still this process's: its next commit takes no lock and reads no journal.
    expect(readFileSync(`${location}.lock`, 'utf8')).toBe(`${process.pid}@${hostname()}`);
    const writer = childWriter(location, 'f', 3);
    expect(await writer.exited).toBe(0);
    // It takes the lock again for its next commit, after the child's keys.
    await store.transact((tx) => tx.putKey(key(301, { owner: 'bob' })));
    const page = await store.findKeys({ owner: 'bob', limit: 100, now: Date.now() });
    expect(page.data.map((k) => k.id)).toEqual(expect.arrayContaining([...writer.acked, key(300).id, key(301).id]));
  }, 30_000);
});
