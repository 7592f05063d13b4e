// Events (and, beside them, usage counts) live in JSON Lines files beside the
// store document, so recording one costs one append, not a rewrite of
// everything. Appends happen under the store's lock. Reading is incremental:
// only the bytes appended since the last read are parsed.

import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, fsyncSync, openSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import type { KeywardEvent } from '../domain.js';

export class JsonLinesLog<T> {
  private parsed: T[] = [];
  private offset = 0;
  private ino = -1;

  constructor(readonly path: string) {}

  /** Appends records; call with the store lock held. */
  append(records: readonly T[]): void {
    if (records.length === 0) return;
    const fd = openSync(this.path, 'a+', 0o600);
    try {
      let text = records.map((e) => JSON.stringify(e)).join('\n') + '\n';
      // A writer killed mid-append leaves a partial last line; start on a fresh
      // line so the partial one stays a single unreadable line, skipped on read.
      const size = fstatSync(fd).size;
      if (size > 0) {
        const last = Buffer.alloc(1);
        readSync(fd, last, 0, 1, size - 1);
        if (last[0] !== 0x0a) text = '\n' + text;
      }
      // One write with O_APPEND: a process killed mid-append leaves at most a
      // partial last line (skipped on read). No fsync: the document holds the
      // state and is fsynced; on a power cut the log's last journal commit
      // (seconds) of events may be lost, which buys the write budget.
      writeSync(fd, text);
    } finally {
      closeSync(fd);
    }
  }

  /** Replaces the whole log atomically (retention); call with the store lock held. */
  rewrite(records: readonly T[]): void {
    const tmp = `${this.path}.${randomBytes(8).toString('hex')}.tmp`;
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      writeSync(fd, records.map((e) => JSON.stringify(e) + '\n').join(''));
      fsyncSync(fd);
    } catch (e) {
      closeSync(fd);
      unlinkSync(tmp);
      throw e;
    }
    closeSync(fd);
    renameSync(tmp, this.path);
  }

  /** Every record, oldest first. The same array grows while the file does. */
  all(): readonly T[] {
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return this.parsed;
      throw e;
    }
    try {
      const st = fstatSync(fd);
      if (st.ino !== this.ino || st.size < this.offset) {
        this.parsed = [];
        this.offset = 0;
        this.ino = st.ino;
      }
      if (st.size === this.offset) return this.parsed;
      const buf = Buffer.alloc(st.size - this.offset);
      let read = 0;
      while (read < buf.length) {
        const n = readSync(fd, buf, read, buf.length - read, this.offset + read);
        if (n === 0) break;
        read += n;
      }
      // Only whole lines: a line still being appended is read next time.
      const end = buf.lastIndexOf(0x0a, read - 1);
      if (end < 0) return this.parsed;
      for (const line of buf.subarray(0, end).toString('utf8').split('\n')) {
        if (!line) continue;
        try {
          const record = JSON.parse(line) as unknown;
          // A line that is not a record (null, 123) is skipped like a torn one.
          if (record !== null && typeof record === 'object' && !Array.isArray(record)) this.parsed.push(record as T);
        } catch {
          // the remains of a write cut short by a crash
        }
      }
      this.offset += end + 1;
      return this.parsed;
    } finally {
      closeSync(fd);
    }
  }
}

export class EventLog extends JsonLinesLog<KeywardEvent> {}

/** Reads all events of a log without keeping a cursor (tests, tools). */
export function readEventLog(path: string): readonly KeywardEvent[] {
  return new EventLog(path).all();
}
