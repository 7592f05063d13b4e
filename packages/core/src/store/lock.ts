// A cross-process lock on the store: a lock file, created only if there is
// none (an exclusive hard link), holding the owner's pid. A holder that died (SIGKILL mid-write) leaves its lock
// behind; a waiter breaks it when that pid no longer runs, or when it is older
// than any write could take.

import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { link, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { constants, closeSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync, linkSync } from 'node:fs';
import { KeywardError } from '../refusal.js';

const STALE_AFTER_MS = 60_000;
const UNREADABLE_AFTER_MS = 2_000;
const GIVE_UP_AFTER_MS = 60_000;
const me = `${process.pid}@${hostname()}`;

function holderIsDead(content: string, mtimeMs: number): boolean {
  if (Date.now() - mtimeMs > STALE_AFTER_MS) return true;
  // A lock always appears with its holder in it (see tryAcquire); one without
  // (empty, from a holder killed mid-acquire by an older keyward) is dead once
  // it is more than a moment old.
  if (!/^\d+@/.test(content)) return Date.now() - mtimeMs > UNREADABLE_AFTER_MS;
  const [pid, host] = content.split('@');
  if (host !== hostname()) return false;
  const n = Number(pid);
  if (!Number.isInteger(n) || n <= 0) return true;
  try {
    process.kill(n, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

let attempt = 0;

/**
 * The lock appears with its holder already written in it: the pid goes into a
 * private file first, which is then hard-linked into place (failing if a lock
 * exists). Creating the lock file and then writing the pid left, for a holder
 * killed between the two, an empty lock that no waiter could tell was dead,
 * and every writer waited out STALE_AFTER_MS.
 */
function tryAcquire(lockPath: string): boolean {
  const mine = `${lockPath}.${process.pid}.${++attempt}.acquiring`;
  const fd = openSync(mine, 'wx', 0o600);
  try {
    writeSync(fd, me);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(mine, lockPath);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    return false;
  } finally {
    unlinkSync(mine);
  }
}

/** Moves a dead holder's lock aside; if a live holder slipped in meanwhile, puts theirs back. */
function breakIfStale(lockPath: string): void {
  let content: string;
  let mtimeMs: number;
  try {
    content = readFileSync(lockPath, 'utf8');
    mtimeMs = statSync(lockPath).mtimeMs;
  } catch {
    return; // gone already
  }
  if (!holderIsDead(content, mtimeMs)) return;
  const aside = `${lockPath}.${process.pid}.${Math.random().toString(36).slice(2)}.stale`;
  try {
    renameSync(lockPath, aside);
  } catch {
    return; // someone else broke it
  }
  try {
    if (readFileSync(aside, 'utf8') !== content) linkSync(aside, lockPath);
  } catch {
    // a third process holds the lock now; theirs stands
  } finally {
    try {
      unlinkSync(aside);
    } catch {
      /* already gone */
    }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function acquireLock(lockPath: string): Promise<() => void> {
  const start = Date.now();
  let wait = 1;
  for (;;) {
    if (tryAcquire(lockPath)) {
      return () => {
        try {
          unlinkSync(lockPath);
        } catch {
          /* broken by a waiter after STALE_AFTER_MS; nothing to release */
        }
      };
    }
    breakIfStale(lockPath);
    if (Date.now() - start > GIVE_UP_AFTER_MS) {
      let holder = 'another process';
      try {
        holder = `process ${readFileSync(lockPath, 'utf8')}`;
      } catch {
        /* released meanwhile */
      }
      throw new KeywardError('UNAVAILABLE', `The store is locked by ${holder} (${lockPath}); try again.`);
    }
    await sleep(wait + Math.random() * wait);
    wait = Math.min(wait * 2, 20);
  }
}

// The same lock without synchronous I/O, for the journal store: a server takes
// it on a request's path, where a blocking call would stall every verify.

async function tryAcquireAsync(lockPath: string): Promise<boolean> {
  const mine = `${lockPath}.${process.pid}.${randomBytes(6).toString('hex')}.acquiring`;
  try {
    const fh = await open(mine, 'wx', 0o600);
    try {
      const text = Buffer.from(me);
      const { bytesWritten } = await fh.write(text, 0, text.length, 0);
      if (bytesWritten !== text.length) throw Object.assign(new Error('short write of the lock file'), { code: 'EIO' });
    } finally {
      await fh.close();
    }
    await link(mine, lockPath);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new KeywardError('UNAVAILABLE', `The store's lock ${lockPath} could not be taken (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); nothing was changed.`);
  } finally {
    await unlink(mine).catch(() => undefined);
  }
}

async function breakIfStaleAsync(lockPath: string): Promise<void> {
  let content: string;
  let mtimeMs: number;
  try {
    content = await readFile(lockPath, { encoding: 'utf8', flag: constants.O_RDONLY | constants.O_NOFOLLOW });
    mtimeMs = (await stat(lockPath)).mtimeMs;
  } catch {
    return;
  }
  if (!holderIsDead(content, mtimeMs)) return;
  const aside = `${lockPath}.${process.pid}.${randomBytes(6).toString('hex')}.stale`;
  try {
    await rename(lockPath, aside);
  } catch {
    return;
  }
  try {
    if ((await readFile(aside, 'utf8')) !== content) await link(aside, lockPath);
  } catch {
    // a third process holds the lock now; theirs stands
  } finally {
    await unlink(aside).catch(() => undefined);
  }
}

/** Takes the store's lock; resolves to its release. Refuses with UNAVAILABLE when the disk will not let it be taken. */
export async function acquireLockAsync(lockPath: string): Promise<() => Promise<void>> {
  const start = Date.now();
  let wait = 1;
  for (;;) {
    if (await tryAcquireAsync(lockPath)) return () => unlink(lockPath).catch(() => undefined);
    await breakIfStaleAsync(lockPath);
    if (Date.now() - start > GIVE_UP_AFTER_MS) {
      const holder = await readFile(lockPath, 'utf8').then((h) => `process ${h}`, () => 'another process');
      throw new KeywardError('UNAVAILABLE', `The store is locked by ${holder} (${lockPath}); try again.`);
    }
    await sleep(wait + Math.random() * wait);
    wait = Math.min(wait * 2, 20);
  }
}
