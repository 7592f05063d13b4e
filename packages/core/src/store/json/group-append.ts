// Durable appends with group commit: appends to one file that arrive while a
// write + fsync is in flight wait and go together in the next one, so a burst
// of appends costs one disk flush, not one each. Everything is asynchronous:
// no request path ever waits on a synchronous write or fsync.

import { KeywardError } from '../../refusal.js';
import { openForAppend, unavailable } from './files.js';

interface Pending {
  text: string[];
  waiters: { resolve: () => void; reject: (e: unknown) => void }[];
}

export class GroupAppender {
  private readonly pending = new Map<string, Pending>();
  private readonly running = new Map<string, Promise<void>>();

  /** Resolves once `text` is written and fsynced to `path`; rejects with UNAVAILABLE on a disk fault (nothing of it read by anyone), OUTCOME_UNKNOWN when only the fsync after the whole write failed. */
  append(path: string, text: string): Promise<void> {
    return new Promise((resolve, reject) => {
      let p = this.pending.get(path);
      if (!p) {
        p = { text: [], waiters: [] };
        this.pending.set(path, p);
      }
      p.text.push(text);
      p.waiters.push({ resolve, reject });
      if (!this.running.has(path)) this.drain(path);
    });
  }

  /** Resolves when every append handed in so far has settled. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running.values()]);
  }

  private drain(path: string): void {
    const run = (async () => {
      for (;;) {
        const batch = this.pending.get(path);
        if (!batch) break;
        this.pending.delete(path);
        try {
          await writeDurably(path, batch.text.join(''));
          for (const w of batch.waiters) w.resolve();
        } catch (e) {
          const err = e instanceof KeywardError ? e : unavailable('append to', path, e);
          for (const w of batch.waiters) w.reject(err);
        }
      }
    })();
    this.running.set(path, run);
    void run.finally(() => {
      if (this.running.get(path) === run) this.running.delete(path);
      if (this.pending.has(path) && !this.running.has(path)) this.drain(path);
    });
  }
}

/** Lines whole in the file whose sync the disk refused: read by anyone now, kept or not after a power cut. */
function unsynced(path: string, e: unknown): KeywardError {
  const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
  return new KeywardError('OUTCOME_UNKNOWN', `Appending to ${path} failed (${code}) after the lines reached it, so whether they are kept is not known; look before sending them again.`);
}

async function writeDurably(path: string, text: string): Promise<void> {
  const buf = Buffer.from(text, 'utf8');
  const fd = await openForAppend(path);
  try {
    // One write with O_APPEND: appends of other processes never interleave
    // inside it. A short write (a full disk) is a failure, not half a success:
    // the partial line it leaves fails its check and is skipped on read.
    const { bytesWritten } = await fd.write(buf, 0, buf.length, null);
    if (bytesWritten !== buf.length) throw Object.assign(new Error(`short write (${bytesWritten} of ${buf.length} bytes)`), { code: 'ENOSPC' });
    // The lines are whole in the file now, and every reader reads them; other processes may have appended after
    // them, so they cannot be cut back. A sync refused now cannot say "nothing was changed".
    await fd.datasync().catch((e: unknown) => Promise.reject(unsynced(path, e)));
  } finally {
    await fd.close();
  }
}
