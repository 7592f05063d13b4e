// The store's lock under a holder killed at the worst moment: found by the
// stress suite's crash loop, where a writer killed between creating the lock
// file and writing its pid into it left an empty lock that held every other
// writer up for a minute. And a lock path that is not a lock Keyward made.
import { readFileSync, readdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { acquireLockAsync } from '../src/store/lock.js';
import { seededStore, tempStorePath } from './helpers.js';
import { type KeywardError, createJsonFileStore } from '../src/index.js';
import { startChild } from './child.js';

const waiter = fileURLToPath(new URL('./fixtures/lock-waiter.ts', import.meta.url));

describe('store lock', () => {
  it('appears with its holder already in it, and leaves nothing behind', async () => {
    const path = tempStorePath();
    const release = await acquireLockAsync(path + '.lock');
    expect(readFileSync(path + '.lock', 'utf8')).toBe(`${process.pid}@${hostname()}`);
    expect(readdirSync(dirname(path))).toEqual(['store.json.lock']);
    await release();
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

  it('a waiter in another process takes it once it is let go, not at its next poll — here a minute on, the polls set that far apart', async () => {
    // Polling alone, a waiter behind a long hold tried every 20-40 ms: a hand-off took that long and more.
    const lock = tempStorePath() + '.lock';
    const release = await acquireLockAsync(lock);
    const w = startChild(waiter, [lock]);
    try {
      await expect.poll(() => w.lines.includes('waiting'), { timeout: 30_000, interval: 20 }).toBe(true);
      // Its first tries find the lock held; then it sleeps until its next poll.
      await new Promise((r) => setTimeout(r, 500));
      await release();
      expect(await w.exited).toBe(0);
      expect(w.lines).toEqual(['waiting', 'got']);
    } finally {
      w.child.kill('SIGKILL');
    }
  }, 55_000);

  it('never reads through a link at the lock path, nor names anything but a pid@host as its holder', async () => {
    const path = tempStorePath();
    const secret = join(dirname(tempStorePath()), 'credentials');
    const token = `kw_${'a'.repeat(24)}_${'b'.repeat(32)}${'c'.repeat(8)}`;
    writeFileSync(secret, `aws_secret_access_key = ${token}\n`);
    symlinkSync(secret, path + '.lock');
    const refused = await acquireLockAsync(path + '.lock', 50).then(() => undefined, (e: KeywardError) => e);
    expect(refused).toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining('locked by another process') });
    expect(refused!.message).not.toContain('aws');
    expect(readFileSync(secret, 'utf8')).toContain(token);
    // A file there that is not a lock's text is not echoed either.
    const other = tempStorePath();
    writeFileSync(other + '.lock', `\x1b]0;pwned\x07 ${token}`);
    const junk = await acquireLockAsync(other + '.lock', 50).then(() => undefined, (e: KeywardError) => e);
    expect(junk).toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining('locked by another process') });
    // A live holder is named.
    const held = tempStorePath();
    const release = await acquireLockAsync(held + '.lock');
    const waiting = await acquireLockAsync(held + '.lock', 50).then(() => undefined, (e: KeywardError) => e);
    expect(waiting?.message).toContain(`locked by process ${process.pid}@${hostname()}`);
    await release();
  });
});
