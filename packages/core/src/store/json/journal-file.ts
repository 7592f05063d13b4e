// The journal file: a fixed header, then records (record.ts) appended one
// commit group at a time. Positions are logical: the header names the
// position of its first record, so they keep growing across compactions,
// which start a new journal at the snapshot's position (the tail after it
// copied over). A reader's position is the version of what it has applied.

import { crc32 } from 'node:zlib';
import { fstatSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { KeywardError } from '../../refusal.js';
import { decodeRecord } from './record.js';
import { SYNCED_WRITES, diskFault, openExisting, readAt, replaceFile, writeAll } from './files.js';

export const JOURNAL_HEADER_BYTES = 32;
const MAGIC = Buffer.from('KWJRNL01', 'latin1');

function encodeHeader(start: number): Buffer {
  const h = Buffer.alloc(JOURNAL_HEADER_BYTES);
  MAGIC.copy(h, 0);
  h.writeBigUInt64LE(BigInt(start), 8);
  h.writeUInt32LE(crc32(h.subarray(0, 16)), 16);
  return h;
}

function decodeHeader(h: Buffer): number | undefined {
  if (h.length < JOURNAL_HEADER_BYTES || !h.subarray(0, 8).equals(MAGIC)) return undefined;
  if (crc32(h.subarray(0, 16)) !== h.readUInt32LE(16)) return undefined;
  return Number(h.readBigUInt64LE(8));
}

export interface Scanned {
  /** Whole records that check, in order, with the logical position after each. */
  records: { payload: unknown; end: number }[];
  /** Logical position after the last good record. */
  end: number;
  /** What follows `end`: nothing, a record not all there (torn or being written), or damage. */
  tail: 'clean' | 'incomplete' | 'bad';
  /** A good record follows the damage: acknowledged data lies beyond it, so it is not a torn tail. */
  damagedInMiddle: boolean;
  /** The file ends before `from`: what was read up to there was cut away since (a refused append's cut-back). */
  endsBefore?: boolean;
}

/** What one fstat of the journal says (JournalFile.look). */
export interface JournalLook {
  /** The file's length in bytes, header included. */
  size: number;
  current: boolean;
}

export class JournalFile {
  private constructor(
    readonly path: string,
    private readonly fh: FileHandle,
    /** Logical position of the first record. */
    readonly start: number,
    /** Opened with SYNCED_WRITES: an append's write is durable when it returns. */
    private readonly syncedWrites: boolean,
  ) {}

  /** Opens the journal at `path`; undefined when there is none. */
  static async open(path: string, writable: boolean): Promise<JournalFile | undefined> {
    let fh: FileHandle;
    const flags = writable ? SYNCED_WRITES : 0;
    try {
      fh = await openExisting(path, writable, flags);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw diskFault(e, `Opening the journal ${path}`);
    }
    const start = decodeHeader(await readAt(fh, 0, JOURNAL_HEADER_BYTES).catch(() => Buffer.alloc(0)));
    if (start === undefined) {
      await fh.close();
      throw new KeywardError('STORE_CORRUPT', `The journal ${path} has no valid header; it was left untouched. Restore the store from a backup.`);
    }
    return new JournalFile(path, fh, start, flags !== 0);
  }

  /** Writes a new journal at `path` (atomically, replacing any) that starts at `start` with `records` already in it. */
  static async create(path: string, start: number, records: Buffer = Buffer.alloc(0), beforeRename?: () => Promise<boolean>): Promise<boolean> {
    return replaceFile(path, Buffer.concat([encodeHeader(start), records]), beforeRename);
  }

  private physical(position: number): number {
    return JOURNAL_HEADER_BYTES + position - this.start;
  }

  /** Logical position of the end of the file (complete or not). */
  async end(): Promise<number> {
    const { size } = await this.fh.stat();
    return this.start + size - JOURNAL_HEADER_BYTES;
  }

  /** True when the file ends exactly at `position` and is still the journal (one fstat). */
  async unchangedAt(position: number): Promise<boolean> {
    return this.endsAt(await this.fh.stat(), position);
  }

  /**
   * unchangedAt without a trip through the threadpool: one fstat on this
   * thread, for an answer that cannot wait a turn (Journal.catchingUp, after
   * the event loop was held). False when it cannot tell (the file closed).
   */
  unchangedNow(position: number): boolean {
    try {
      return this.endsAt(fstatSync(this.fh.fd), position);
    } catch {
      return false;
    }
  }

  private endsAt({ size, nlink }: { size: number; nlink: number }, position: number): boolean {
    return nlink > 0 && this.start + size - JOURNAL_HEADER_BYTES === position;
  }

  /** One fstat: how long the file is, and whether it is still the journal (false once a compaction replaced it: its name now points at a new file). */
  async look(): Promise<JournalLook> {
    const { size, nlink } = await this.fh.stat();
    return { size, current: nlink > 0 };
  }

  contains(position: number): boolean {
    return position >= this.start;
  }

  /** The raw bytes from `from` to `to` (logical), for a compaction's carried-over tail. */
  async bytes(from: number, to: number): Promise<Buffer> {
    return readAt(this.fh, this.physical(from), to - from);
  }

  /** Decodes every whole record from `from` to the end of the file (as `looked` found it, when given). */
  async scan(from: number, looked?: JournalLook): Promise<Scanned> {
    const at = this.physical(from);
    const { size } = looked ?? (await this.fh.stat());
    if (size < at) return { records: [], end: from, tail: 'clean', damagedInMiddle: false, endsBefore: true };
    const buf = size > at ? await readAt(this.fh, at, size - at) : Buffer.alloc(0);
    const records: Scanned['records'] = [];
    let off = 0;
    for (;;) {
      if (off === buf.length) return { records, end: from + off, tail: 'clean', damagedInMiddle: false };
      const d = decodeRecord(buf, off);
      if (d.kind === 'record') {
        off += d.size;
        records.push({ payload: d.payload, end: from + off });
        continue;
      }
      if (d.kind === 'incomplete') return { records, end: from + off, tail: 'incomplete', damagedInMiddle: false };
      // Damage. A torn tail has nothing whole after it; a good record after
      // the damaged one means acknowledged data would be lost by cutting here.
      const next = off + d.size;
      const damagedInMiddle = next < buf.length && decodeRecord(buf, next).kind === 'record';
      return { records, end: from + off, tail: 'bad', damagedInMiddle };
    }
  }

  /**
   * Appends one record at `at` (the end of the last good record, under the
   * lock) and makes it durable. On any fault the file is cut back to `at`, so
   * it is exactly as it was, and UNAVAILABLE is thrown. A cut-back the disk
   * refuses too leaves what the write made: a torn record no reader applies
   * (the next holder of the lock cuts it), still UNAVAILABLE; or the whole
   * record, which every reader applies though its sync failed — made as far
   * as anyone reads, durable or not, so OUTCOME_UNKNOWN.
   */
  async append(record: Buffer, at: number): Promise<number> {
    try {
      await writeAll(this.fh, record, this.physical(at));
      // Synced writes returned durable already: a create waits for one call, not two.
      if (!this.syncedWrites) await this.fh.datasync();
      return at + record.length;
    } catch (e) {
      const cut = await this.truncate(at).then(
        () => true,
        () => false,
      );
      if (!cut && (await this.holds(record, at))) {
        throw new KeywardError(
          'OUTCOME_UNKNOWN',
          `Writing to the journal ${this.path} failed (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}) after the change reached it, and it could not be taken back, so whether it was made is not known; look before making it again.`,
        );
      }
      throw diskFault(e, `Writing to the journal ${this.path}`);
    }
  }

  /** Whether the file holds `record` whole at `at` (false when it cannot be read). */
  private async holds(record: Buffer, at: number): Promise<boolean> {
    return readAt(this.fh, this.physical(at), record.length).then(
      (b) => b.equals(record),
      () => false,
    );
  }

  /** Cuts the file back to `position` (a torn tail, or a failed append) and makes that durable. */
  async truncate(position: number): Promise<void> {
    await this.fh.truncate(this.physical(position));
    await this.fh.datasync();
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}
