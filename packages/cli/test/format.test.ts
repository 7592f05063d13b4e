import { describe, expect, it } from 'vitest';
import { createEngine, createMemoryStore, initStore, relativeTime } from '@keyward/core';
import { keysTable } from '../src/format.js';

describe('the keys table', () => {
  // The terminal UI's key columns say the same (packages/tui/test/text.test.ts): both are core's relativeTime.
  it('says how soon a key ends as core does, for a key a real engine made', async () => {
    const store = createMemoryStore();
    await initStore(store, { admin: 'alice' });
    const alice = createEngine(store, { usageFlushMs: 0 }).as('alice');
    await alice.updateSettings({ api_keys_enabled: true });
    await alice.updateUser('alice', { developer: true });
    const key = await alice.generateKey({ description: 'CI', expiry: 'P30D' });
    try {
      expect(relativeTime(key.expiry, Date.now())).toBe('in 30d');
      const row = keysTable((await alice.listKeys()).data).split('\n')[1];
      expect(row).toMatch(new RegExp(`^${key.id} +CI +alice +active +in 30d +never$`));
    } finally {
      await alice.close();
    }
  });
});
