// Events live in a JSON Lines file beside the store document, so recording
// one costs one append, not a rewrite of everything. Appends happen under the
// store's lock. Reading is incremental: only the bytes appended since the last
// read are parsed.

import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import type { KeywardEvent } from '../domain.js';

export class EventLog {
  private parsed: KeywardEvent[] = [];
  private offset = 0;
  private ino = -1;

  constructor(readonly path: string) {}

  /** Appends events; call with the store lock held. */
  append(events: readonly KeywardEvent[]): void {
    if (events.length === 0) return;
    const fd = openSync(this.path, 'a+', 0o600);
    try {
      let text = events.map((e) => JSON.stringify(e)).join('\n') + '\n';
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

  /** Every event, oldest first. */
  all(): readonly KeywardEvent[] {
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
          this.parsed.push(JSON.parse(line) as KeywardEvent);
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

/** Reads all events of a log without keeping a cursor (tests, tools). */
export function readEventLog(path: string): readonly KeywardEvent[] {
  return new EventLog(path).all();
}
