// The foundation's seed flow through the real `keyward` process on a local store.
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { keyward, tempDir } from './support/keyward.js';
import { bootstrap, seedFlow } from './support/flow.js';

describe('keyward on a local store', () => {
  it('runs the seed flow end to end', async () => {
    const store = join(tempDir(), 'keyward.json');
    bootstrap(store);
    await seedFlow({
      as: (user, args) => keyward(args, { KEYWARD_STORE: store, KEYWARD_USER: user }),
      verify: (token) => keyward(['keys', 'verify', token], { KEYWARD_STORE: store, KEYWARD_USER: 'nobody' }),
    });
    // Some 70 `keyward` processes one after another, as over HTTP and on PostgreSQL (300 s there too):
    // 26 s on a quiet machine, 87 s at load ~16 on 2 cores, and past e2e's 120 s in a CI at load
    // 15-26 whose own scheduling group held three busy loops (that CI took 70 min, twice one at ~16).
  }, 300_000);
});
