// The JSON store on a full disk, as `keyward keys create` meets it: on a real
// tmpfs with less room than a create needs (but more than none), every create
// (a key, its event to the journal and its day segment) is acknowledged or
// refused with UNAVAILABLE; the store then opens with every acknowledged key
// and no other, and no lock or temporary file is left behind; once there is
// room, every acknowledged key has its event exactly once (those whose copy to
// the day segment met the full disk after their record was durable included).
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS } from '../../src/domain.js';
import { KeywardError } from '../../src/refusal.js';
import { createJsonFileStore } from '../../src/store/json/store.js';
import { event, key, user } from '../conformance/records.js';
import { fillDisk, mountSmallDisk } from './small-disk.js';

const disk = mountSmallDisk(512);
afterAll(() => {
  if ('dir' in disk) disk.unmount();
});

describe('JSON store on a full disk', () => {
  it.skipIf('refused' in disk)(`acknowledges or refuses every create and reopens with every acknowledged key${'refused' in disk ? ` — SKIPPED: ${disk.refused}` : ''}`, async () => {
    const dir = (disk as { dir: string }).dir;
    const path = join(dir, 'store.json');
    const store = createJsonFileStore(path, { onProblem: () => {} });
    await store.create({ tenant: { id: 't', name: 'n', created: '', settings: DEFAULT_SETTINGS }, users: [user('alice', true), user('bob')], events: [] });
    await store.transact((tx) => tx.emit(event('user.added', Date.now(), 'alice'))); // the day's segment exists
    const spare = fillDisk(dir, 16);
    const acked: string[] = [];
    let refused = 0;
    for (let i = 0; i < 80; i++) {
      const k = key(500 + i, { owner: 'bob', description: `create ${i} ${'d'.repeat(1500)}` });
      try {
        await store.transact((tx) => {
          tx.putKey(k);
          tx.emit({ ...event('api-key.generated', Date.now(), 'bob', k.id), data: { description: k.description } });
        });
        acked.push(k.id);
      } catch (e) {
        expect(e).toBeInstanceOf(KeywardError);
        expect((e as KeywardError).code, (e as Error).message).toBe('UNAVAILABLE');
        refused++;
      }
      if (i % 5 === 4 && spare.length > 0) rmSync(spare.pop()!);
    }
    await store.close();
    expect(acked.length).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
    const leftovers = readdirSync(dir).filter((n) => n.endsWith('.tmp') || n.includes('.lock'));
    expect(leftovers).toEqual([]);
    const again = createJsonFileStore(path, { onProblem: () => {} });
    const keys = (await again.keysOf('bob')).map((k) => k.id).sort();
    expect(keys).toEqual([...acked].sort());
    await again.close();
    // Events whose copy to the day segment met the full disk after their record
    // was durable are copied from the journal once there is room: each once.
    rmSync(join(dir, 'filler'));
    const roomy = createJsonFileStore(path, { onProblem: () => {} });
    const generated = new Map<string, number>();
    for (let after: string | undefined, more = true; more; ) {
      const page = await roomy.findEvents({ types: ['api-key.generated'], limit: 50, startingAfter: after });
      for (const e of page.data) generated.set(e.keyId!, (generated.get(e.keyId!) ?? 0) + 1);
      more = page.hasNext;
      after = page.data.at(-1)?.id;
    }
    expect([...generated.keys()].sort()).toEqual([...acked].sort());
    expect([...generated.values()].every((n) => n === 1)).toBe(true);
    await roomy.close();
  });
});
