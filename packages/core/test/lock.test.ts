// The store's lock under a holder killed at the worst moment: found by the
// stress suite's crash loop, where a writer killed between creating the lock
// file and writing its pid into it left an empty lock that held every other
// writer up for a minute.
import { readFileSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { acquireLock } from '../src/store/lock.js';
import { seededStore, tempStorePath } from './helpers.js';
import { createJsonFileStore } from '../src/index.js';

describe('store lock', () => {
  it('appears with its holder already in it, and leaves nothing behind', async () => {
    const path = tempStorePath();
    const release = await acquireLock(path + '.lock');
    expect(readFileSync(path + '.lock', 'utf8')).toBe(`${process.pid}@${hostname()}`);
    expect(readdirSync(dirname(path))).toEqual(['store.json.lock']);
    release();
    expect(readdirSync(dirname(path))).toEqual([]);
  });

  it('does not hold writers up when a dead holder left it empty', async () => {
    const path = tempStorePath();
    const { bob } = await seededStore({ store: createJsonFileStore(path) });
    writeFileSync(path + '.lock', '');
    const aWhileAgo = new Date(Date.now() - 10_000);
    utimesSync(path + '.lock', aWhileAgo, aWhileAgo);
    // Before the fix this waited for the lock to be a minute old, past the test's timeout.
    const k = await bob.generateKey({ description: 'after an empty lock' });
    expect(k.status).toBe('active');
  }, 20_000);
});
