// A create refused for a full disk is never seen: on a real tmpfs with no room
// left, reads asked while the refused create's group is being written (a key
// read by id, and a strict list) never answer with its key. The group's
// entries are applied to the model so the next transaction of the group sees
// them, then hidden from reads until the append returns (Journal.commitGroup).
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS } from '../../src/domain.js';
import { createJsonFileStore } from '../../src/store/json/store.js';
import { event, key, user } from '../conformance/records.js';
import { fillDisk, mountSmallDisk } from './small-disk.js';

const disk = mountSmallDisk(512);
afterAll(() => {
  if ('dir' in disk) disk.unmount();
});

describe('JSON store: a refused create', () => {
  it.skipIf('refused' in disk)(`is in no read asked while it was being written${'refused' in disk ? ` — SKIPPED: ${disk.refused}` : ''}`, async () => {
    const dir = (disk as { dir: string }).dir;
    const path = join(dir, 'store.json');
    const store = createJsonFileStore(path, { onProblem: () => {} });
    await store.create({ tenant: { id: 't', name: 'n', created: '', settings: DEFAULT_SETTINGS }, users: [user('alice', true), user('bob')], events: [] });
    await store.transact((tx) => tx.emit(event('user.added', Date.now(), 'alice')));
    await store.findKeys({ owner: 'bob', limit: 10, now: Date.now() });
    fillDisk(dir, 0);
    const seen: string[] = [];
    let refusals = 0;
    for (let i = 0; i < 20; i++) {
      const k = key(700 + i, { owner: 'bob', description: `refused ${i} ${'d'.repeat(3000)}` });
      let settled = false;
      const create = store
        .transact((tx) => {
          tx.putKey(k);
          tx.emit(event('api-key.generated', Date.now(), 'bob', k.id));
        })
        .then(
          () => false,
          () => true,
        )
        .finally(() => (settled = true));
      // Reads each turn until the create is answered.
      while (!settled) {
        const [byId, list] = await Promise.all([store.getKey(k.id), store.findKeys({ owner: 'bob', limit: 100, now: Date.now() })]);
        if (byId) seen.push(`getKey ${i}`);
        if (list.data.some((x) => x.id === k.id)) seen.push(`findKeys ${i}`);
      }
      if (await create) refusals++;
    }
    await store.close();
    expect(refusals).toBe(20);
    expect(seen).toEqual([]);
  }, 60_000);
});
