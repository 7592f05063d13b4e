// How far the journal's events have been copied into the day segments
// (journal-events.ts), in `<events dir>/journal-copied`: one checked line,
// rewritten in place under the store's lock after every copy.
//
// It holds two marks. `copied` is written without an fsync: it is true as
// long as the machine has not restarted since (the page cache that holds the
// copies holds it too), so it carries the boot it was written in. `durable`
// is written after the copies were fsynced (at compaction, and in the
// background a while after a commit): it survives a
// power cut. A mark is a journal position — every event of the records
// before it is in the segments — and, per day segment, a size the segment
// had already reached then: events copied after the mark can only lie past
// it, so finding which of them a crashed writer had copied reads only that.

import { constants, readFileSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { uptime } from 'node:os';
import { dirname } from 'node:path';
import { checkedLine, parseCheckedLine } from './checked-line.js';
import { ensureDir, readAt, syncDir, writeAll } from './files.js';

export interface CopyMark {
  position: number;
  /** Day segment → a size it had reached when the mark was written. */
  sizes: Record<string, number>;
}

interface MarkLine {
  boot: string;
  copied: CopyMark;
  durable: CopyMark;
}

/** Room for the line, so a rewrite in place always covers the old one. */
const BYTES = 1024;
/** Days a mark remembers sizes for (older ones are no longer written to). */
const DAYS = 4;

export type ReadMark =
  /** No mark: a store written before events were copied from the journal, when every event was in its segment before it was acknowledged. */
  | { kind: 'missing' }
  /** A mark that does not check (a power cut mid-rewrite): nothing is known to be copied. */
  | { kind: 'damaged' }
  /** `durable` for a mark written before the machine last started. */
  | { kind: 'mark'; copied: CopyMark; durable: CopyMark };

export class CopyMarkFile {
  private fd?: FileHandle;

  constructor(readonly path: string) {}

  async read(): Promise<ReadMark> {
    const fd = await this.handle(false);
    if (!fd) return { kind: 'missing' };
    const text = (await readAt(fd, 0, BYTES * 4)).toString('utf8');
    const end = text.indexOf('\n');
    const line = parseCheckedLine(end < 0 ? text : text.slice(0, end));
    if (!isMarkLine(line)) return { kind: 'damaged' };
    return { kind: 'mark', copied: line.boot === thisBoot() ? line.copied : line.durable, durable: line.durable };
  }

  /** Rewrites the mark; with `durable`, makes it durable (after the copies it names were fsynced). */
  async write(copied: CopyMark, durable: CopyMark, sync: boolean): Promise<void> {
    const line = checkedLine({ boot: thisBoot(), copied: recent(copied), durable: recent(durable) } satisfies MarkLine) + '\n';
    const buf = Buffer.alloc(Math.max(BYTES, Buffer.byteLength(line)), 0x20);
    buf.write(line, 0, 'utf8');
    const fd = (await this.handle(true))!;
    await writeAll(fd, buf, 0);
    if (sync) await fd.datasync();
  }

  async close(): Promise<void> {
    await this.fd?.close().catch(() => undefined);
    this.fd = undefined;
  }

  private async handle(create: boolean): Promise<FileHandle | undefined> {
    if (this.fd) return this.fd;
    try {
      this.fd = await open(this.path, constants.O_RDWR | constants.O_NOFOLLOW);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || !create) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw e;
      }
      await ensureDir(dirname(this.path));
      this.fd = await open(this.path, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
      // Its name must survive a power cut: a missing mark means "all copied".
      await syncDir(dirname(this.path));
    }
    return this.fd;
  }
}

/** The mark with only its most recent days. */
function recent(mark: CopyMark): CopyMark {
  const days = Object.keys(mark.sizes).sort().slice(-DAYS);
  return { position: mark.position, sizes: Object.fromEntries(days.map((d) => [d, mark.sizes[d]!])) };
}

function isMark(x: unknown): x is CopyMark {
  const m = x as CopyMark;
  return !!m && Number.isSafeInteger(m.position) && m.position >= 0 && typeof m.sizes === 'object' && m.sizes !== null && Object.values(m.sizes).every((n) => Number.isSafeInteger(n) && n >= 0);
}

function isMarkLine(x: unknown): x is MarkLine {
  const l = x as MarkLine;
  return !!l && typeof l === 'object' && typeof l.boot === 'string' && isMark(l.copied) && isMark(l.durable);
}

let boot: string | undefined;
/** This boot of the machine: Linux names it (read once, from /proc, not a disk); elsewhere, the minute it started. */
function thisBoot(): string {
  if (boot !== undefined) return boot;
  try {
    boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    boot = '';
  }
  if (!boot) boot = `up-since-${Math.round((Date.now() / 1000 - uptime()) / 60)}`;
  return boot;
}
