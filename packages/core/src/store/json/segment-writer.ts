// Appends to day segments WITHOUT an fsync each, for events a journal record
// already holds durably (journal-events.ts): the journal's fsync is the one a
// create waits for, and these copies are fsynced later, all at once (sync),
// before the journal lets go of the records they came from.
//
// A handle stays open per day written, so an append is one write. Where the
// segment ends after it (where any later append must start) is asked later,
// once per day, by sizeOf: the copy mark needs it only when the mark is
// written, and a create need not wait for an fstat.

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

  /** Appends `text` (whole checked lines) to a day's segment. */
  async append(day: string, text: string): Promise<void> {
    const buf = Buffer.from(text, 'utf8');
    const fd = await this.handle(day);
    try {
      // One write with O_APPEND: other processes' appends never interleave inside it.
      const { bytesWritten } = await fd.write(buf, 0, buf.length, null);
      if (bytesWritten !== buf.length) throw Object.assign(new Error(`short write (${bytesWritten} of ${buf.length} bytes)`), { code: 'ENOSPC' });
    } catch (e) {
      await this.forget(day);
      throw e;
    }
  }

  /**
   * Where a day's segment ends now (after this process's appends). 0 when
   * retention removed it after, or while, it was written: those appends went
   * nowhere anyone reads, which is what retention wants of a day that old,
   * and the next append to the day starts its new file.
   */
  async sizeOf(day: string): Promise<number> {
    const kept = this.open.get(day);
    const fd = kept ?? (await openForReading(this.pathOf(day)));
    if (!fd) return 0;
    try {
      const st = await fd.stat();
      if (st.nlink > 0) return st.size;
      if (kept) await this.forget(day);
      return 0;
    } finally {
      if (!kept) await fd.close();
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
