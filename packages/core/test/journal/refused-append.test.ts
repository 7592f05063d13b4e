// A change whose journal append the disk refused after its bytes reached the
// file (an O_DSYNC write whose sync failed: the record is whole in the page
// cache) is cut back, and then refused as UNAVAILABLE — nothing was changed.
// When the cut-back is refused too, the record stays whole in the file and
// every reader applies it (another process's, this one's next catch-up, a
// reopen): that change was made as far as anyone reads, and its durability is
// not known, so it is OUTCOME_UNKNOWN, never UNAVAILABLE. So are events (and
// usage) lines appended whole whose fsync was refused: they cannot be cut
// back (other processes append after them). On a real store of files, the
// faults made at this process's file handles.
import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_SETTINGS } from '../../src/domain.js';
import { newEvent } from '../../src/events.js';
import { createJsonFileStore } from '../../src/store/json/store.js';
import { key, user } from '../conformance/records.js';
import { failingAfterTheWriteOf, failingAnFsync, failingTruncates } from './disk-faults.js';

afterEach(() => {
  vi.restoreAllMocks();
});

async function aStore() {
  const path = join(mkdtempSync(join(tmpdir(), 'kw-refused-append-')), 'store.json');
  const store = createJsonFileStore(path, { onProblem: () => {} });
  await store.create({ tenant: { id: 't', name: 'n', created: '', settings: DEFAULT_SETTINGS }, users: [user('alice', true), user('bob')], events: [] });
  return { path, store };
}

const refusal = (p: Promise<unknown>) => p.then(() => 'made', (e: { code?: string }) => e.code);

describe('JSON store: a journal append refused once its bytes were written', () => {
  it('is cut back and refused as UNAVAILABLE: the key is in no store opened after', async () => {
    const { path, store } = await aStore();
    const k = key(1, { owner: 'bob', description: 'refused and cut back' });
    await failingAfterTheWriteOf('refused and cut back');
    expect(await refusal(store.transact((tx) => tx.putKey(k)))).toBe('UNAVAILABLE');
    vi.restoreAllMocks();
    const reopened = createJsonFileStore(path, { onProblem: () => {} });
    expect(await reopened.getKey(k.id)).toBeUndefined();
    expect(await store.getKey(k.id)).toBeUndefined();
    await Promise.all([store.close(), reopened.close()]);
  });

  it('whose cut-back is refused too is OUTCOME_UNKNOWN: the key is there for every reader — UNAVAILABLE ("nothing was changed") before', async () => {
    const { path, store } = await aStore();
    const k = key(2, { owner: 'bob', description: 'refused and left there' });
    await failingAfterTheWriteOf('refused and left there');
    await failingTruncates();
    expect(await refusal(store.transact((tx) => tx.putKey(k)))).toBe('OUTCOME_UNKNOWN');
    vi.restoreAllMocks();
    const reopened = createJsonFileStore(path, { onProblem: () => {} });
    expect((await reopened.getKey(k.id))?.description).toBe('refused and left there');
    await Promise.all([store.close(), reopened.close()]);
  });
});

describe('JSON store: events appended whose fsync the disk refused after their line was written whole', () => {
  it('are OUTCOME_UNKNOWN: the event is there for every reader — UNAVAILABLE ("nothing was changed") before', async () => {
    const { path, store } = await aStore();
    const e = newEvent('api-key.auth-failed', Date.now(), 'anonymous', undefined, { count: 1, reasons: { 'appended unsynced': 1 } });
    await failingAnFsync();
    expect(await refusal(store.append([e]))).toBe('OUTCOME_UNKNOWN');
    vi.restoreAllMocks();
    const reopened = createJsonFileStore(path, { onProblem: () => {} });
    expect((await reopened.findEvents({ limit: 10 })).data.map((x) => x.id)).toContain(e.id);
    await Promise.all([store.close(), reopened.close()]);
  });
});
