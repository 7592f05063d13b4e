// A usage flush to a JSON store whose append failed after its line was
// written (the fsync failed: the line may be on disk, or not) is sent again
// by its process, and counted once — on a real store of files, with another
// process's engine flushing the same key beside it.
import { open } from 'node:fs/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { createEngine } from '../../src/engine.js';
import { createJsonFileStore } from '../../src/store/json/store.js';
import { seededStore, tempStorePath } from '../helpers.js';

afterEach(() => {
  vi.restoreAllMocks();
});

/** The `nth` next fdatasync of this process (1: the next) fails with EIO, after the write before it was made. */
async function failingAnFsync(nth = 1) {
  const probe = await open(process.execPath, 'r');
  const handle = Object.getPrototypeOf(probe) as { datasync(this: unknown): Promise<void> };
  await probe.close();
  const datasync = handle.datasync;
  let calls = 0;
  return vi.spyOn(handle, 'datasync').mockImplementation(function (this: unknown) {
    if (++calls === nth) return Promise.reject(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
    return datasync.call(this);
  });
}

describe('a usage flush sent again', () => {
  it('after its append failed once its line was written is counted once, summed with another process’s uses — counted twice before', async () => {
    const path = tempStorePath();
    const { engine, bob } = await seededStore({ store: createJsonFileStore(path), clock: systemClock });
    const key = await bob.generateKey({ description: 'flushed as the disk failed' });
    for (let i = 0; i < 3; i++) expect((await engine.verify(key.token)).valid).toBe(true);

    const fsync = await failingAnFsync();
    await expect(engine.flush()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(fsync).toHaveBeenCalledOnce();
    fsync.mockRestore();

    // Another process on the same store counts the same key; then both flush (this one's sent again).
    const other = createEngine(createJsonFileStore(path), { usageFlushMs: 0 });
    for (let i = 0; i < 2; i++) expect((await other.verify(key.token)).valid).toBe(true);
    await Promise.all([engine.flush(), other.flush()]);
    await Promise.all([engine.close(), other.close()]);

    const reopened = createJsonFileStore(path);
    const [usage] = await reopened.usageSince(Date.now() - 3_600_000, [key.id]);
    expect(usage.uses).toBe(5);
    const used = await reopened.findEvents({ types: ['api-key.used'], keyId: key.id, limit: 10 });
    expect(used.data).toHaveLength(2);
    await reopened.close();
  });

  it('after its counts were appended and its events failed is counted once — counted twice before', async () => {
    const path = tempStorePath();
    const { engine, bob } = await seededStore({ store: createJsonFileStore(path), clock: systemClock });
    const key = await bob.generateKey({ description: 'flushed as its events failed' });
    for (let i = 0; i < 3; i++) expect((await engine.verify(key.token)).valid).toBe(true);

    // The usage append's fsync passes; the events' after it fails.
    const fsync = await failingAnFsync(2);
    await expect(engine.flush()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(fsync).toHaveBeenCalledTimes(2);
    fsync.mockRestore();
    await engine.flush();
    await engine.close();

    const reopened = createJsonFileStore(path);
    const [usage] = await reopened.usageSince(Date.now() - 3_600_000, [key.id]);
    expect(usage.uses).toBe(3);
    await reopened.close();
  });
});
