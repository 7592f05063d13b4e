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
  });
});
