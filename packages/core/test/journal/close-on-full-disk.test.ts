// An engine closing on a store that takes none of its last usage flush (the
// JSON store on a real full disk): close() refuses with UNAVAILABLE, naming
// the uses that are lost and why — not the advice a refused change gives
// ("nothing was changed. Try again shortly.") — and closes the store all the
// same: a store left open kept its files and timers, and the process that
// was ending stayed.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { createJsonFileStore } from '../../src/store/json/store.js';
import { seededStore } from '../helpers.js';
import { fillDisk, mountSmallDisk } from './small-disk.js';

const disk = mountSmallDisk(2048);
afterAll(() => {
  if ('dir' in disk) disk.unmount();
});

describe('an engine closed when its last usage flush cannot be written', () => {
  it.skipIf('refused' in disk)(`names the uses lost and closes its store${'refused' in disk ? ` — SKIPPED: ${disk.refused}` : ''}`, async () => {
    const dir = (disk as { dir: string }).dir;
    const { engine, store, bob } = await seededStore({ store: createJsonFileStore(join(dir, 'store.json')), clock: systemClock });
    const key = await bob.generateKey({ description: 'used as the disk filled' });
    for (let i = 0; i < 3; i++) expect((await engine.verify(key.token)).valid).toBe(true);
    fillDisk(dir, 0);

    const closed = await engine.close().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(closed).toMatchObject({ code: 'UNAVAILABLE' });
    const message = (closed as Error).message;
    expect(message).toMatch(/^3 uses of 1 key counted since the last flush could not be written and are lost\. \S/);
    expect(message).not.toMatch(/nothing was changed|Try again/);
    expect(message).not.toContain(key.token);
    // Closed all the same: every call is now refused as a closed store's.
    await expect(store.tenant()).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringMatching(/closed/) });
  });
});
