// Appends to day segments WITHOUT an fsync each, for events a journal record
// already holds durably (journal-events.ts): the journal's fsync is the one a
// create waits for, and these copies are fsynced later, all at once (sync),
// before the journal lets go of the records they came from.
//
// A handle stays open per day written, so an append is one write and one
// fstat. The fstat answers the size after the write (where any later append
// must start) and whether retention unlinked the file meanwhile, in which
// case the write went nowhere anyone reads, and is done again on a new file.

import type { FileHandle } from 'node:fs/promises';
import { openForAppend, openForReading, syncDir } from './files.js';

/** Days kept open at once: today, and yesterday around midnight. */
const OPEN_DAYS = 2;

export class SegmentWriter {
  private readonly open = new Map<string, FileHandle>();

  constructor(
    readonly dir: string,
    private readonly pathOf: (day: string) => string,
  ) {}

  /** Appends `text` (whole checked lines) to a day's segment; answers the segment's size after it. */
  async append(day: string, text: string): Promise<number> {
    const buf = Buffer.from(text, 'utf8');
    for (let attempt = 0; ; attempt++) {
      const fd = await this.handle(day);
      try {
        // One write with O_APPEND: other processes' appends never interleave inside it.
        const { bytesWritten } = await fd.write(buf, 0, buf.length, null);
        if (bytesWritten !== buf.length) throw Object.assign(new Error(`short write (${bytesWritten} of ${buf.length} bytes)`), { code: 'ENOSPC' });
        const st = await fd.stat();
        if (st.nlink > 0 || attempt > 0) return st.size;
      } catch (e) {
        await this.forget(day);
        throw e;
      }
      await this.forget(day); // removed by retention under us: write to the day's new file
    }
  }

  /** Makes every append so far to these days durable, and the segments' names too. */
  async sync(days: Iterable<string>): Promise<void> {
    for (const day of days) {
      const fd = this.open.get(day) ?? (await openForReading(this.pathOf(day))); // gone: removed by retention
      if (!fd) continue;
      try {
        await fd.datasync();
      } finally {
        if (!this.open.has(day)) await fd.close();
      }
    }
    await syncDir(this.dir);
  }

  /** Closes the handle of a day (removed, or no longer written). */
  async forget(day: string): Promise<void> {
    const fd = this.open.get(day);
    this.open.delete(day);
    await fd?.close().catch(() => undefined);
  }

  async close(): Promise<void> {
    for (const day of [...this.open.keys()]) await this.forget(day);
  }

  private async handle(day: string): Promise<FileHandle> {
    const kept = this.open.get(day);
    if (kept) return kept;
    const fd = await openForAppend(this.pathOf(day));
    this.open.set(day, fd);
    for (const old of [...this.open.keys()].sort().slice(0, Math.max(0, this.open.size - OPEN_DAYS))) await this.forget(old);
    return fd;
  }
}
