// A usage flush to a JSON store whose append failed after its line was
// written (the fsync failed: the line may be on disk, or not) is sent again
// by its process, and counted once — on a real store of files, with another
// process's engine flushing the same key beside it.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { createEngine } from '../../src/engine.js';
import { createJsonFileStore } from '../../src/store/json/store.js';
import { UsageAggregates } from '../../src/store/json/usage-aggregates.js';
import { seededStore, tempStorePath } from '../helpers.js';
import { failingAnFsync, failingTheWriteOf } from './disk-faults.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('a usage flush sent again', () => {
  it('after its append failed once its line was written is counted once, summed with another process’s uses — counted twice before', async () => {
    const path = tempStorePath();
    const { engine, bob } = await seededStore({ store: createJsonFileStore(path), clock: systemClock });
    const key = await bob.generateKey({ description: 'flushed as the disk failed' });
    for (let i = 0; i < 3; i++) expect((await engine.verify(key.token)).valid).toBe(true);

    const fsync = await failingAnFsync();
    await expect(engine.flush()).rejects.toMatchObject({ code: 'OUTCOME_UNKNOWN' });
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

  it('after its counts were appended and its events failed (their lines written, their fsync refused) is counted once, with its events once — its events were written twice before', async () => {
    const path = tempStorePath();
    const { engine, bob } = await seededStore({ store: createJsonFileStore(path), clock: systemClock });
    const key = await bob.generateKey({ description: 'flushed as its events failed' });
    for (let i = 0; i < 3; i++) expect((await engine.verify(key.token)).valid).toBe(true);

    // The usage append's fsync passes; the events' after it fails.
    const fsync = await failingAnFsync(2);
    await expect(engine.flush()).rejects.toMatchObject({ code: 'OUTCOME_UNKNOWN' });
    expect(fsync).toHaveBeenCalledTimes(2);
    fsync.mockRestore();
    await engine.flush();
    await engine.close();

    const reopened = createJsonFileStore(path);
    const [usage] = await reopened.usageSince(Date.now() - 3_600_000, [key.id]);
    expect(usage.uses).toBe(3);
    const used = await reopened.findEvents({ types: ['api-key.used'], keyId: key.id, limit: 10 });
    expect(used.data).toHaveLength(1);
    await reopened.close();
  });

  it('once retention removed its day — its raw file, sums and events — is not counted again: what is past the retention is left out — counted again before, with its event', async () => {
    const path = tempStorePath();
    let now = Date.now();
    const clock = { now: () => now };
    const { engine, bob } = await seededStore({ store: createJsonFileStore(path), clock });
    const key = await bob.generateKey({ description: 'flushed, then past retention' });
    for (let i = 0; i < 3; i++) expect((await engine.verify(key.token)).valid).toBe(true);
    const fsync = await failingAnFsync();
    await expect(engine.flush()).rejects.toMatchObject({ code: 'OUTCOME_UNKNOWN' });
    fsync.mockRestore();

    // 92 days on, the tenant's retention (90 days) removes the flush's day, the line its try left included.
    now += 92 * 86_400_000;
    await engine.sweep();
    const store = createJsonFileStore(path);
    const usesAndEvents = async () => [
      (await store.usageSince(0, [key.id]))[0].uses,
      (await store.findEvents({ types: ['api-key.used'], keyId: key.id, limit: 10 })).data.length,
    ];
    expect(await usesAndEvents()).toEqual([0, 0]);

    await engine.flush();
    expect(await usesAndEvents()).toEqual([0, 0]);
    await engine.close();
    await store.close();
  });

  it('whose every try failed, once past the retention, still gives its key its last use — a fact kept past retention — though not its uses: lost before, the counts left out whole', async () => {
    const path = tempStorePath();
    let now = Date.now();
    const clock = { now: () => now };
    const { engine, bob } = await seededStore({ store: createJsonFileStore(path), clock });
    const key = await bob.generateKey({ description: 'never flushed until past retention' });
    for (let i = 0; i < 3; i++) expect((await engine.verify(key.token)).valid).toBe(true);
    const usedAt = now;
    // Its usage line is refused before anything of it is written.
    const write = await failingTheWriteOf(key.id);
    await expect(engine.flush()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    write.mockRestore();

    now += 92 * 86_400_000;
    await engine.sweep();
    await engine.flush();
    const store = createJsonFileStore(path);
    expect((await store.usageSince(0, [key.id]))[0].uses).toBe(0);
    expect((await store.lastUsedOf([key.id])).get(key.id)?.lastUsed).toBe(usedAt);
    await engine.close();
    await store.close();
  });

  it('once the raw file its failed try went to was folded and removed — then its day folded too — is counted once: twice before', async () => {
    const MIN = 60_000;
    const dir = join(mkdtempSync(join(tmpdir(), 'keyward-usage-')), 'store.usage');
    let now = Date.parse('2026-11-20T10:50:00.000Z');
    const usage = new UsageAggregates(dir, { now: () => now, rollUpEveryMs: 0 });
    const three = [{ keyId: 'k1', minute: Math.floor(now / MIN) - 1, uses: 3, lastUsed: now - MIN }];
    const usesSinceTheDay = async () => (await usage.usageSince(Date.parse('2026-11-20T00:00:00.000Z'), ['k1']))[0].uses;

    let fsync = await failingAnFsync();
    await expect(usage.recordFlush(three, 'p1.1')).rejects.toMatchObject({ code: 'OUTCOME_UNKNOWN' });
    fsync.mockRestore();
    // The disk is back 30 minutes on: the hour of the failed try is closed, folded, and its raw file removed.
    now += 30 * MIN;
    expect(await usage.rollUp()).toBe(true);
    expect(existsSync(join(dir, '2026-11-20T10.jsonl'))).toBe(false);
    await usage.recordFlush(three, 'p1.1');
    expect(await usesSinceTheDay()).toBe(3);

    // The next flush fails the same way, at 11:20; sent again two days on, once its day is one sum of hours.
    const two = [{ keyId: 'k1', minute: Math.floor(now / MIN) - 1, uses: 2, lastUsed: now - MIN }];
    fsync = await failingAnFsync();
    await expect(usage.recordFlush(two, 'p1.2')).rejects.toMatchObject({ code: 'OUTCOME_UNKNOWN' });
    fsync.mockRestore();
    now += 2 * 86_400_000;
    expect(await usage.rollUp()).toBe(true);
    expect(existsSync(join(dir, '2026-11-20.sum.json'))).toBe(true);
    await usage.recordFlush(two, 'p1.2');
    expect(await usesSinceTheDay()).toBe(5);
    await usage.close();
  });
});
