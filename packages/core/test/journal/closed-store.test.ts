// A JSON store after close(): what the conformance suite asks of every store
// (each call refused with UNAVAILABLE), and what only a store of files can get
// wrong — a read asked just before close() and run after it, or a call made
// after, must not open the journal again (a file handle nobody closes), take
// the lock, or write anything; and no watch or timer of the store runs on.
// What was under way as close() was called (a usage flush, a compaction)
// finishes before it returns: after that another process may take over.
import { mkdtempSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { KeywardError } from '../../src/refusal.js';
import { JsonFileStore, createJsonFileStore } from '../../src/store/json/store.js';
import { GroupAppender } from '../../src/store/json/group-append.js';
import { T0, event, key, tenant, user } from '../conformance/records.js';
import { holdBack } from './held-back.js';

afterEach(() => {
  vi.restoreAllMocks();
});

/** Every file under `dir` (the store's folders too) with what a write would change. */
function filesUnder(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const st = statSync(join(dir, name), { bigint: true });
    out[name] = `${st.ino}:${st.size}:${st.mtimeNs}`;
  }
  return out;
}

/** The handles this process holds open on files under `dir` (Linux). */
function openUnder(dir: string): string[] {
  const open: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith(dir + '/')) open.push(target);
    } catch {
      // closed meanwhile (the readdir's own handle)
    }
  }
  return open;
}

/** Timers and intervals set from now on, and which of them are still to run (neither fired nor cleared). */
function recordTimers(): { pending: () => string[] } {
  const pending = new Map<unknown, string>();
  const { setTimeout: later, setInterval: every, clearTimeout: unlater, clearInterval: unevery } = globalThis;
  vi.spyOn(globalThis, 'setTimeout').mockImplementation(((fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const handle = later((...a: unknown[]) => {
      pending.delete(handle);
      fn(...a);
    }, ms, ...args);
    pending.set(handle, `setTimeout ${ms} ms`);
    return handle;
  }) as typeof setTimeout);
  vi.spyOn(globalThis, 'setInterval').mockImplementation(((fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const handle = every(fn, ms, ...args);
    pending.set(handle, `setInterval ${ms} ms`);
    return handle;
  }) as typeof setInterval);
  const cleared = (clear: (h: never) => void) => ((handle: never) => (pending.delete(handle), clear(handle))) as never;
  vi.spyOn(globalThis, 'clearTimeout').mockImplementation(cleared(unlater));
  vi.spyOn(globalThis, 'clearInterval').mockImplementation(cleared(unevery));
  return { pending: () => [...pending.values()] };
}

describe('JSON store: closed', () => {
  it('reopens nothing, touches no file and leaves no watch or timer running, for calls asked before close() returns and after', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyward-closed-'));
    const timers = recordTimers();
    const store = createJsonFileStore(join(dir, 'store.json'), { onProblem: () => {} });
    await store.create({ tenant: tenant(), users: [user('alice', true), user('bob')], events: [event('user.added', T0, 'alice')] });
    await store.transact((tx) => tx.putKey(key(1)));
    await store.recordUsage([{ keyId: key(1).id, minute: Math.floor(Date.now() / 60_000), uses: 1, lastUsed: Date.now() }], []);
    // Every part follows its files from here on: the journal's folder, the usage folder.
    expect((await store.lastUsedOf([key(1).id])).get(key(1).id)?.uses).toBeGreaterThanOrEqual(0);
    expect(await store.listUsers()).toHaveLength(2);

    // Asked in the same turn as close(): each is answered, or refused as closed — never by opening the store again.
    const outcome = (p: Promise<unknown>) => p.then(() => 'answered', (e: unknown) => (e instanceof KeywardError ? e.code : String(e)));
    const inFlight = [store.listUsers(), store.keysOf('bob'), store.findEvents({ limit: 5 }), store.getKey(key(1).id), store.transact((tx) => tx.putKey(key(2)))].map(outcome);
    await store.close();
    for (const o of await Promise.all(inFlight)) expect(['answered', 'UNAVAILABLE']).toContain(o);
    const files = filesUnder(dir);

    const after = [store.tenant(), store.listUsers(), store.getKey(key(1).id), store.transact((tx) => tx.putKey(key(3))), store.append([event('api-key.auth-failed', T0 + 1, 'anonymous')]), store.findEvents({ limit: 5 }), store.lastUsedOf([key(1).id]), store.removeBefore(T0)];
    for (const o of await Promise.all(after.map(outcome))) expect(o).toBe('UNAVAILABLE');
    await expect(store.getKey(key(1).id)).rejects.toThrow(/closed/);

    // A stray poll or catch-up would have run by now (the follower polls every 50 ms).
    await new Promise((r) => setTimeout(r, 200));
    expect(openUnder(dir)).toEqual([]);
    expect(filesUnder(dir)).toEqual(files);
    expect(readdirSync(dir).filter((n) => n.includes('.lock'))).toEqual([]);
    expect(timers.pending()).toEqual([]);
  });

  it('a usage flush under way when close() is called finishes before it returns: nothing touches the store’s files after', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyward-closed-'));
    const path = join(dir, 'store.json');
    const store = createJsonFileStore(path, { onProblem: () => {} });
    await store.create({ tenant: tenant(), users: [user('alice', true), user('bob')], events: [event('user.added', T0, 'alice')] });
    await store.transact((tx) => tx.putKey(key(1)));
    const now = Date.now();
    // Under way as close() is called: the flush's usage append is held until then; its event is written after it.
    const usageAppend = holdBack(GroupAppender.prototype, 'append', { once: true });
    const flush = store.recordUsage([{ keyId: key(1).id, minute: Math.floor(now / 60_000), uses: 3, lastUsed: now }], [event('api-key.used', now, 'bob', key(1).id)]);
    await vi.waitFor(() => expect(GroupAppender.prototype.append).toHaveBeenCalled());
    const closing = store.close();
    // Let go once close() returned, or after 100 ms if it waits for the flush (as it should).
    void closing.finally(() => usageAppend.release());
    setTimeout(() => usageAppend.release(), 100);
    await closing;
    const files = filesUnder(dir);
    const outcome = await flush.then(() => 'answered', (e: unknown) => String(e));
    await new Promise((r) => setTimeout(r, 200));
    expect(filesUnder(dir)).toEqual(files);
    expect(outcome).toBe('answered');
    await expectTheFlushThere(path, now);
  });

  it('a compaction under way when close() is called (a flush beside it) finishes before it returns: no snapshot, temporary or journal is written after', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyward-closed-'));
    const path = join(dir, 'store.json');
    const store = new JsonFileStore(path, { onProblem: () => {} });
    await store.create({ tenant: tenant(), users: [user('alice', true), user('bob')], events: [event('user.added', T0, 'alice')] });
    for (let i = 1; i <= 20; i++) await store.transact((tx) => tx.putKey(key(i)));
    const now = Date.now();
    // Both asked before close(): the flush (usage, then its event) and the compaction (a new snapshot and journal).
    const flush = store.recordUsage([{ keyId: key(1).id, minute: Math.floor(now / 60_000), uses: 3, lastUsed: now }], [event('api-key.used', now, 'bob', key(1).id)]);
    const compaction = store.compact();
    await store.close();
    const files = filesUnder(dir);
    // Another process may take the store over from here: what was under way has finished, nothing is left to write.
    const outcomes = await Promise.allSettled([flush, compaction]);
    await new Promise((r) => setTimeout(r, 200));
    expect(filesUnder(dir)).toEqual(files);
    expect(readdirSync(dir).filter((n) => n.includes('.lock') || n.includes('.tmp'))).toEqual([]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled']);
    // And what the flush was answered for is there.
    await expectTheFlushThere(path, now);
  });
});

/** The store at `path`, opened again, has the flush these tests make (key 1 used 3 times at `now`, one api-key.used event). */
async function expectTheFlushThere(path: string, now: number): Promise<void> {
  const again = createJsonFileStore(path, { onProblem: () => {} });
  try {
    expect((await again.usageSince(now - 60_000)).find((u) => u.keyId === key(1).id)?.uses).toBe(3);
    expect((await again.findEvents({ types: ['api-key.used'], limit: 5 })).data).toHaveLength(1);
  } finally {
    await again.close();
  }
}
