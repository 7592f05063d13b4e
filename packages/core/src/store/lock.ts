// A cross-process lock on the store: a lock file, created only if there is
// none (an exclusive hard link), holding the owner's pid. A holder that died (SIGKILL mid-write) leaves its lock
// behind; a waiter breaks it when that pid no longer runs, or when it is older
// than any write could take. A waiter polls, and a watch on the folder wakes
// it when the lock file changes (LockWatch).

import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { link, lstat, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { type FSWatcher, constants, watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import { KeywardError } from '../refusal.js';

const STALE_AFTER_MS = 60_000;
const UNREADABLE_AFTER_MS = 2_000;
const GIVE_UP_AFTER_MS = 60_000;
/** A waiter's polls: the first after 1-2 ms, each twice the one before, at most 20-40 ms apart (a watch cuts each short: LockWatch). */
const WAITS = { firstMs: 1, mostMs: 20 };
const me = `${process.pid}@${hostname()}`;

function holderIsDead(content: string, mtimeMs: number): boolean {
  if (Date.now() - mtimeMs > STALE_AFTER_MS) return true;
  // A lock always appears with its holder in it (see tryAcquireAsync); one without
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

/**
 * The lock appears with its holder already written in it: the pid goes into a
 * private file first, which is then hard-linked into place (failing if a lock
 * exists). Creating the lock file and then writing the pid left, for a holder
 * killed between the two, an empty lock that no waiter could tell was dead,
 * and every writer waited out STALE_AFTER_MS. No synchronous I/O: a server
 * takes the lock on a request's path, where a blocking call would stall every verify.
 */
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
    content = await readLock(lockPath);
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
    if ((await readLock(aside)) !== content) await link(aside, lockPath);
  } catch {
    // a third process holds the lock now; theirs stands
  } finally {
    await unlink(aside).catch(() => undefined);
  }
}

/** Whether some process holds the lock now (its file is there). */
export async function lockExists(lockPath: string): Promise<boolean> {
  try {
    await lstat(lockPath);
    return true;
  } catch {
    return false;
  }
}

/**
 * Wakes a waiter when the lock's folder says the lock file changed (let go,
 * or taken by another), instead of at the end of its backoff: polling alone,
 * a process waiting behind a long hold tried every 20-40 ms. The watch only
 * cuts a wait short — every try, and every look for a dead holder, is made
 * as before, so a watch that says nothing (no inotify left, a network
 * folder) leaves the polling as it was. It reads nothing: no link at the
 * lock path is followed by it.
 */
class LockWatch {
  private watcher?: FSWatcher;
  private wake?: () => void;
  /** The lock file changed since the last try began: the next sleep ends at once (an event between sleeps is not lost). */
  private stirred = false;

  constructor(lockPath: string) {
    const name = basename(lockPath);
    try {
      this.watcher = watch(dirname(lockPath), { persistent: false }, (_, file) => {
        // Another waiter's temporary files, the journal's appends: not the lock.
        if (file !== null && String(file) !== name) return;
        this.stirred = true;
        this.wake?.();
      });
      this.watcher.on('error', () => this.close());
    } catch {
      // No watch: the backoff alone.
    }
  }

  /** A try begins: what changed before it, it sees. */
  trying(): void {
    this.stirred = false;
  }

  /** `ms`, or less once the lock file changes; nothing if it changed since the try. */
  sleep(ms: number): Promise<void> {
    if (this.stirred) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
    this.wake?.();
  }
}

/** A lock file's text, never read through a link (one planted there could point at any file). */
function readLock(path: string): Promise<string> {
  return readFile(path, { encoding: 'utf8', flag: constants.O_RDONLY | constants.O_NOFOLLOW });
}

/** Who holds the lock, for a message: its pid@host, never anything else a file (or a link) there holds. */
async function holderOf(lockPath: string): Promise<string> {
  const text = await readLock(lockPath).catch(() => '');
  return /^\d{1,10}@[\w.-]{1,253}$/.test(text) ? `process ${text}` : 'another process';
}

/**
 * Takes the store's lock; resolves to its release. Refuses with UNAVAILABLE
 * when the disk will not let it be taken, or after `giveUpAfterMs` of waiting.
 * `waits`: how far apart its polls are (a test sets them past its own length).
 */
export async function acquireLockAsync(lockPath: string, giveUpAfterMs = GIVE_UP_AFTER_MS, waits = WAITS): Promise<() => Promise<void>> {
  const start = Date.now();
  let wait = waits.firstMs;
  // Made once the lock was found held (an uncontended take costs no watch), then tried again at once:
  // a release between the try and the watch's start is told by no event.
  let watching: LockWatch | undefined;
  try {
    for (;;) {
      watching?.trying();
      if (await tryAcquireAsync(lockPath)) return () => unlink(lockPath).catch(() => undefined);
      if (!watching) {
        watching = new LockWatch(lockPath);
        continue;
      }
      await breakIfStaleAsync(lockPath);
      if (Date.now() - start > giveUpAfterMs) {
        const holder = await holderOf(lockPath);
        throw new KeywardError('UNAVAILABLE', `The store is locked by ${holder} (${lockPath}); try again.`);
      }
      await watching.sleep(wait + Math.random() * wait);
      wait = Math.min(wait * 2, waits.mostMs);
    }
  } finally {
    watching?.close();
  }
}
