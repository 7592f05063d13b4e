// A big snapshot (PARSE_APART_FROM_BYTES and more) that another process's
// compaction wrote is checked on a worker thread while this process goes on
// (1d4c72e). What must hold meanwhile: a revoke acknowledged elsewhere still
// reaches this process's verifier (SPEC §4), a commit here too waits for the
// check only after applying what others acknowledged, and a store closed
// meanwhile stops its check instead of parsing on behind close().
import { afterEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { DEFAULT_SETTINGS } from '../../src/domain.js';
import { createEngine } from '../../src/engine.js';
import type { Store } from '../../src/store/boundary.js';
import { createJsonFileStore } from '../../src/store/json/store.js';
import { key, user } from '../conformance/records.js';
import { seededStore, tempStorePath } from '../helpers.js';

interface JournalInside {
  busy: boolean;
  checking?: string;
  snapshotFile: { file: { outline(): Promise<unknown>; read(): Promise<unknown> } };
}
const journalOf = (store: Store) => (store as unknown as { journal: JournalInside }).journal;
const compact = (store: Store) => (store as unknown as { compact(): Promise<void> }).compact();

/** Holds `store`'s checks of a big snapshot (their worker's answer) until `release()`. */
function holdChecks(store: Store): { release(): void; held(): number } {
  const file = journalOf(store).snapshotFile.file;
  const outline = file.outline.bind(file);
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let checks = 0;
  releases.push(release);
  file.outline = async () => {
    checks++;
    await held;
    return outline();
  };
  return { release, held: () => checks };
}

/** A seeded store whose snapshot, once compacted, is big enough to be checked on a worker thread. */
async function bigStore(path: string) {
  const seeded = await seededStore({ store: createJsonFileStore(path, { onProblem: () => {} }), clock: systemClock });
  await seeded.store.transact((tx) => {
    for (let i = 0; i < 5000; i++) tx.putKey(key(100_000 + i));
  });
  return seeded;
}

const closing: { close(): Promise<void> }[] = [];
const releases: (() => void)[] = [];
afterEach(async () => {
  for (const release of releases.splice(0)) release();
  await Promise.all(closing.splice(0).map((c) => c.close()));
});

describe('a big snapshot checked off the event loop', () => {
  // A commit here takes the lock once the other store gave it back, just
  // after that store's revoke was acknowledged; the follower's wakes wait
  // for the commit's turn (the watch told of the revoke during it). The
  // other store is on the same files in this process (its own journal,
  // lock and follower, as another process's), so the test orders the steps. The
  // commit's catch-up waited for the check of the new snapshot before it
  // applied the journal: the event loop went on, and the verifier answered
  // the revoked key from its cache as valid for as long as the check took
  // (1-2 s at 100k keys on a busy machine). Its follower's poll is set past
  // the test's length so that only the watch wakes it: a server's poll,
  // ticking while its commit waited for the lock, often (not always) caught
  // the revoke before the lock came.
  it('a key revoked by another store on the files is refused here while a commit of this process waits for the check', async () => {
    const path = tempStorePath();
    const { bob, engine } = await bigStore(path);
    const k = await bob.generateKey({ description: 'revoked while the snapshot is checked' });
    await engine.close();

    const server = createEngine(createJsonFileStore(path, { onProblem: () => {}, pollMs: 600_000 }), { usageFlushMs: 0, retentionSweepMs: 0 });
    closing.push(server);
    await expect.poll(() => {
      const v = server.verify(k.token);
      return !(v instanceof Promise) && v.valid;
    }, { timeout: 10_000 }).toBe(true);
    const serverStore = server.store;
    const checks = holdChecks(serverStore);

    // The other store: it compacts (a snapshot of a MB and more), then keeps the lock across its commits.
    const otherStore = createJsonFileStore(path, { onProblem: () => {}, holdLockMs: 600_000 });
    const other = createEngine(otherStore, { usageFlushMs: 0, retentionSweepMs: 0 });
    closing.push(other);
    await compact(otherStore);
    await other.as('alice').generateKey({ description: 'takes the lock' });

    // A create here waits for the lock, its turn holding back the follower's wakes.
    const created = server.as('bob').generateKey({ description: 'waits for the lock' });
    await expect.poll(() => journalOf(serverStore).busy, { timeout: 10_000 }).toBe(true);
    await other.as('alice').revokeKey(k.id);
    await other.close(); // gives the lock back: the create here takes it

    // Acknowledged elsewhere: refused here, while the check is still held.
    await expect.poll(() => {
      const v = server.verify(k.token);
      return v instanceof Promise ? 'asked' : v.valid ? 'valid' : v.reason;
    }, { timeout: 10_000 }).toBe('revoked');
    expect(checks.held()).toBeGreaterThan(0);
    expect(journalOf(serverStore).checking).toBeDefined();

    // Let go, the check finds the snapshot good and the create is made.
    checks.release();
    expect((await created).description).toBe('waits for the lock');
    expect(await Promise.resolve(server.verify(k.token))).toMatchObject({ valid: false, reason: 'revoked' });
  }, 60_000);

  // The check's worker thread read and parsed on after close() (at 100k keys
  // 34 MB, a second and more), keeping the process alive that long — a
  // command that closed its store and had nothing left to do could not
  // exit — and a worker that failed was followed by a parse in place, on the
  // event loop of a store already closed.
  it('stops the check of a big snapshot when the store is closed', async () => {
    const ports = () => process.getActiveResourcesInfo().filter((r) => r === 'MessagePort').length;
    const before = ports();
    const path = tempStorePath();
    const writer = createJsonFileStore(path, { onProblem: () => {} });
    closing.push(writer);
    await writer.create({ tenant: { id: 't', name: 'n', created: '', settings: DEFAULT_SETTINGS }, users: [user('alice', true)], events: [] });
    await writer.transact((tx) => {
      for (let i = 0; i < 5000; i++) tx.putKey(key(i));
    });
    const reader = createJsonFileStore(path, { onProblem: () => {} });
    closing.push(reader);
    expect((await reader.findKeys({ limit: 1, now: Date.now() })).total).toBe(5000);
    const inPlace = vi.spyOn(journalOf(reader).snapshotFile.file, 'read');
    await compact(writer);
    // The reader's catch-up meets the new snapshot: its check starts on a worker thread, and the reader closes.
    expect((await reader.findKeys({ limit: 1, now: Date.now() })).total).toBe(5000);
    await reader.close();
    expect(ports()).toBe(before);
    expect(inPlace).not.toHaveBeenCalled();
  }, 60_000);
});
