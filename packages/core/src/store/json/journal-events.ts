// A transaction's events live in its journal record (store.ts, JournalEntry),
// and the journal's fsync is their one durable point: a change and its events
// commit together or not at all. The day segments, where events are found,
// get a COPY of them, written after the record without an fsync of its own.
//
// The copy can be missing after a crash — a writer killed between its
// journal fsync and its segment write, or a power cut before the page cache
// reached the disk — so it is checked against the journal (copy-mark.ts
// says how far it is known to be complete) and completed from it:
// - by every writer, under the lock, before it copies its own group;
// - on open, when the mark is behind the journal;
// - before a compaction lets go of journal records (settle), which also
//   fsyncs the copies, so the journal never drops an event not yet durable;
//   a settle also runs in the background a while after a commit, so that
//   after a power cut little is left to check.
// Events the crashed writer did copy are found by id past the mark's sizes
// and not copied again: every event is in its segment exactly once.

import type { KeywardEvent } from '../../domain.js';
import { type CopyMark, CopyMarkFile } from './copy-mark.js';
import { EventSegments } from './event-segments.js';
import type { JournalCopy, RecordsFrom } from './journal.js';

export interface JournalEventsOptions {
  /** Tests kill the process here: the copies written, the mark not yet. */
  afterCopiesWritten?: () => void;
}

export class JournalEvents<Entry extends { events: readonly KeywardEvent[] }> implements JournalCopy<Entry> {
  private readonly markFile: CopyMarkFile;
  /** How far this process knows the copy to be complete (undefined: read the mark). */
  private known?: CopyMark;
  private durable: CopyMark = { position: 0, sizes: {} };
  /** `known` is ahead of the mark on disk. */
  private unmarked = false;
  /** Days copied to since `known`'s sizes were taken: sized (one fstat each) only when a mark is written. */
  private unsized = new Set<string>();
  /** The copy under way, if any: the journal appends the next group while its copy is made. */
  private copyUnderWay: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly segments: EventSegments,
    markPath: string,
    private readonly opts: JournalEventsOptions = {},
  ) {
    this.markFile = new CopyMarkFile(markPath);
  }

  async behind(to: number): Promise<boolean> {
    const m = await this.markFile.read();
    return m.kind === 'damaged' || (m.kind === 'mark' && m.copied.position < to);
  }

  copy(to: number, records: RecordsFrom<Entry>, group?: { from: number; entries: Entry[] }): Promise<void> {
    const run = this.copyFrom(to, records, group);
    this.copyUnderWay = run.catch(() => undefined);
    return run;
  }

  private async copyFrom(to: number, records: RecordsFrom<Entry>, group?: { from: number; entries: Entry[] }): Promise<void> {
    const from = group?.from ?? to;
    // Another process committed since our last copy (or we know nothing yet): its mark says where the copy stands.
    const mark = this.known?.position === from ? this.known : await this.current(from);
    if (mark.position >= to) {
      this.known = mark;
      return;
    }
    // Records before our group that a writer left uncopied (it died, or its
    // copy failed): some of their events may be in the segments already.
    const left = mark.position < from ? (await records(mark.position)).filter((r) => r.end <= from) : [];
    const events = [...(await this.notYetCopied(eventsOf(left.flatMap((r) => r.entries)), mark.sizes)), ...eventsOf(group?.entries ?? [])];
    let days: string[];
    try {
      days = await this.segments.appendCopies(events);
    } catch (e) {
      // Some days may hold part of this copy: only the mark on disk, older than any of it, says where to look again.
      this.forgetKnown();
      throw e;
    }
    this.opts.afterCopiesWritten?.();
    for (const day of days) this.unsized.add(day);
    this.known = { position: to, sizes: { ...mark.sizes } };
    this.unmarked = true;
  }

  async prepare(from: number): Promise<void> {
    // Once this process has read or written the mark, it is on disk already.
    if (this.known) return;
    // Known nothing (yet, or since a copy failed): the copy under way, of the
    // records before `from`, goes first — a mark missing now would be written
    // as "all before `from` copied".
    await this.copyUnderWay;
    this.known ??= await this.current(from);
  }

  /** Written once per hold of the lock, not per copy: a crash before it only means the next writer checks the copies past the old mark. */
  async mark(): Promise<void> {
    if (!this.unmarked || !this.known) return;
    await this.sized();
    await this.markFile.write(this.known, this.durable, false);
    this.unmarked = false;
  }

  async settle(to: number, records: RecordsFrom<Entry>): Promise<void> {
    await this.copy(to, records);
    await this.sized();
    const mark = this.known!;
    await this.segments.syncCopies(Object.keys(mark.sizes));
    await this.markFile.write(mark, mark, true);
    this.durable = mark;
    this.unmarked = false;
  }

  close(): Promise<void> {
    return this.markFile.close();
  }

  /**
   * Takes the sizes of the days copied to since they were last taken, for a
   * mark. Under the lock, so nothing of a later record is in them yet, and
   * everything of ours is.
   */
  private async sized(): Promise<void> {
    if (this.unsized.size === 0 || !this.known) return;
    const sizes: Record<string, number> = {};
    for (const day of this.unsized) sizes[day] = await this.segments.copySize(day);
    this.known = { position: this.known.position, sizes: { ...this.known.sizes, ...sizes } };
    this.unsized.clear();
  }

  private forgetKnown(): void {
    this.known = undefined;
    this.unmarked = false;
    this.unsized.clear();
  }

  /**
   * The mark on disk; with none, everything before `from` was copied the way
   * stores did before marks (fsynced, before acknowledging). That is written
   * down at once: were this copy lost to a crash, the next writer would read
   * "no mark" again and take its own group's start for where copying stands.
   */
  private async current(from: number): Promise<CopyMark> {
    const m = await this.markFile.read();
    if (m.kind === 'missing') {
      const before: CopyMark = { position: from, sizes: {} };
      await this.markFile.write(before, before, true);
      return (this.durable = before);
    }
    if (m.kind === 'damaged') return (this.durable = { position: 0, sizes: {} });
    this.durable = m.durable;
    return m.copied;
  }

  /** The events not yet in their segments past the mark's sizes (found there by id). */
  private async notYetCopied(events: KeywardEvent[], sizes: Record<string, number>): Promise<KeywardEvent[]> {
    if (events.length === 0) return events;
    const present = new Set<string>();
    for (const day of new Set(events.map(EventSegments.dayOf))) {
      for (const id of await this.segments.idsFrom(day, sizes[day] ?? 0)) present.add(id);
    }
    return events.filter((e) => !present.has(e.id));
  }
}

function eventsOf(entries: readonly { events: readonly KeywardEvent[] }[]): KeywardEvent[] {
  return entries.flatMap((e) => e.events);
}
