// Events in day segments: `<dir>/2026-12-01.jsonl`, one self-checking line per
// event, in the day its id was made (ids start with their time, so a cursor
// names its segment). Newest first means the newest day first and, within a
// day, the last appended first; cursors are event ids. A search opens only
// the days inside its time window, reads each backwards in chunks and stops
// as soon as it has its page, so its cost and memory follow the page, not the
// history kept. Retention deletes whole days.

import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { EventFind, EventPage } from '../boundary.js';
import type { KeywardEvent } from '../../domain.js';
import { refuse } from '../../refusal.js';
import { printable } from '../../duration.js';
import { appendText, parseCheckedLine } from './checked-line.js';
import { DAY, dayOf, dayStart, timeOfEventId } from './days.js';
import { isKeywardEvent } from './event-shape.js';
import { directoryOnce, listDir, openForReading, removeFile, removeStaleTemporaries } from './files.js';
import { GroupAppender } from './group-append.js';
import { SegmentWriter } from './segment-writer.js';
import { lastLineWith, linesBackward, linesForward, type Line } from './line-reader.js';
import { IndexBuilder, blockMayMatch, indexPathFor, readSegmentIndex, segmentMayMatch, writeSegmentIndex } from './segment-index.js';

export interface EventSegmentsOptions {
  /** Told about lines that are not events (once per segment file and process). Default: a process warning. */
  onMalformed?: (file: string, lines: number) => void;
  /** Bytes read at a time (tests make it small to cross chunk edges). */
  chunkBytes?: number;
  /** Today's day for "is this segment closed" (an injected clock in tests). */
  now?: () => number;
}

const SEGMENT = /^(\d{4}-\d{2}-\d{2})\.jsonl$/;
const INDEX_STEP = 1 << 20;
/** How many pages' ends are remembered as places (cursorPlaces). */
const PLACES_KEPT = 256;

/** Where an event's line is: its segment, and its bytes in it. */
interface Place {
  path: string;
  start: number;
  end: number;
}

/** An event a search found, and where. */
interface Found {
  event: KeywardEvent;
  place: Place;
}

const foundIn = (path: string, e: { event: KeywardEvent; start: number; end: number }): Found => ({ event: e.event, place: { path, start: e.start, end: e.end } });

export class EventSegments {
  private readonly appender = new GroupAppender();
  private readonly writer: SegmentWriter;
  private readonly dirReady: () => Promise<void>;
  private readonly reported = new Set<string>();
  /**
   * Where the first and last events of recent pages are, by id: the cursors
   * the next page is asked with. Without an index for its day, finding a
   * cursor's line meant searching the day's bytes from its end: ~40 ms a
   * page deep in a busy day, and a walk from a day's start (oldest first, as
   * a store's copy reads) would search the day once per page. A place is
   * only a guess, checked against the line found there.
   */
  private readonly cursorPlaces = new Map<string, Place>();

  constructor(
    readonly dir: string,
    private readonly opts: EventSegmentsOptions = {},
  ) {
    this.dirReady = directoryOnce(dir);
    this.writer = new SegmentWriter(dir, (day) => this.pathOf(day));
  }

  /** Appends durably (group commit); resolves once every event is fsynced. */
  async append(events: readonly KeywardEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.dirReady();
    await Promise.all([...byDay(events)].map(([day, list]) => this.appender.append(this.pathOf(day), appendText(list))));
  }

  /** Where the segments of these events' days end now (0: none yet): an append that fails leaves what it wrote after that. */
  async ends(events: readonly KeywardEvent[]): Promise<Map<string, number>> {
    const ends = new Map<string, number>();
    for (const day of byDay(events).keys()) {
      const fd = await openForReading(this.pathOf(day));
      try {
        ends.set(day, fd ? (await fd.stat()).size : 0);
      } finally {
        await fd?.close();
      }
    }
    return ends;
  }

  /** Those of `events` not in their day's segment past `ends` (ends): what an append that failed there did not leave whole. */
  async notIn(events: readonly KeywardEvent[], ends: ReadonlyMap<string, number>): Promise<KeywardEvent[]> {
    const left: KeywardEvent[] = [];
    for (const [day, list] of byDay(events)) {
      const there = await this.idsFrom(day, ends.get(day) ?? 0);
      left.push(...list.filter((e) => !there.has(e.id)));
    }
    return left;
  }

  /**
   * Appends events that a journal record already holds durably, without an
   * fsync (see journal-events.ts); answers the days written (copySize says
   * where each ends).
   */
  async appendCopies(events: readonly KeywardEvent[]): Promise<string[]> {
    if (events.length === 0) return [];
    await this.dirReady();
    const days: string[] = [];
    for (const [day, list] of byDay(events)) {
      await this.writer.append(day, appendText(list));
      days.push(day);
    }
    return days;
  }

  /** Where a day's segment ends after this process's copies (0: retention removed it under them). */
  copySize(day: string): Promise<number> {
    return this.writer.sizeOf(day);
  }

  /** Makes the copies appended to these days so far durable. */
  syncCopies(days: Iterable<string>): Promise<void> {
    return this.writer.sync(days);
  }

  /** The ids of the events in a day's segment from byte `from` on (all of it if it is now shorter: made anew). */
  async idsFrom(day: string, from: number): Promise<Set<string>> {
    const ids = new Set<string>();
    const path = this.pathOf(day);
    const fd = await openForReading(path);
    if (!fd) return ids;
    try {
      const size = (await fd.stat()).size;
      for await (const e of this.eventsOf(path, linesForward(fd, from <= size ? from : 0, size, this.opts.chunkBytes))) ids.add(e.event.id);
    } finally {
      await fd.close();
    }
    return ids;
  }

  /** The segment day an event belongs in. */
  static dayOf(e: KeywardEvent): string {
    return dayOf(eventTime(e));
  }

  /** Days that have a segment, oldest first. */
  async days(): Promise<string[]> {
    const days: string[] = [];
    for (const name of await listDir(this.dir)) {
      const m = SEGMENT.exec(name);
      if (m && !Number.isNaN(dayStart(m[1]))) days.push(m[1]);
    }
    return days.sort();
  }

  /** One page, newest first. */
  async find(q: EventFind): Promise<EventPage> {
    if (q.startingAfter !== undefined && q.endingBefore !== undefined) refuse('INVALID_INPUT', 'Use startingAfter or endingBefore, not both.');
    if (q.endingBefore !== undefined) return this.findNewerThan(q, q.endingBefore);
    return q.oldestFirst && q.startingAfter === undefined ? this.findNewerThan(q, undefined) : this.findOlder(q);
  }

  /** Deletes every day segment that ends at or before `before` (with its sidecar). */
  async removeBefore(before: number): Promise<void> {
    for (const day of await this.days()) {
      if (dayStart(day) + DAY > before) break;
      const path = this.pathOf(day);
      // A reader holding the segment open keeps reading it; one that opens it
      // after this finds no file and sees fewer events, never an error.
      await this.writer.forget(day);
      await removeFile(path);
      await removeFile(indexPathFor(path));
    }
    await removeStaleTemporaries(this.dir);
  }

  /** Settles appends still in flight and closes what is kept open (close). */
  async idle(): Promise<void> {
    await this.appender.idle();
    await this.writer.close();
  }

  private pathOf(day: string): string {
    return join(this.dir, `${day}.jsonl`);
  }

  /** The first page, or the page after a cursor: walk days newest first. */
  private async findOlder(q: EventFind): Promise<EventPage> {
    const after = q.startingAfter;
    const cursorDay = after === undefined ? undefined : cursorDayOf(after);
    const matches = matcher(q);
    const isoSince = q.since === undefined ? undefined : new Date(q.since).toISOString();
    const isoUntil = q.until === undefined ? undefined : new Date(q.until).toISOString();
    const found: Found[] = [];
    const want = q.limit + 1;
    const days = (await this.days()).reverse().filter((d) => inWindow(d, q) && (cursorDay === undefined || d <= cursorDay));
    for (const day of days) {
      const path = this.pathOf(day);
      const fd = await openForReading(path);
      if (!fd) continue; // removed by retention since the listing
      try {
        const size = (await fd.stat()).size;
        if (day === cursorDay) {
          // The cursor's day: the events before its line, newest first.
          const cursor = await this.lineOf(path, fd, size, after!);
          if (!cursor) refuse('INVALID_INPUT', `The cursor "${printable(after!)}" is not in this list.`);
          for await (const e of this.eventsOf(path, linesBackward(fd, cursor.start, 0, this.opts.chunkBytes))) {
            if (matches(e.event)) found.push(foundIn(path, e));
            if (found.length >= want) break;
          }
          // Its page full, older days are not opened.
          if (found.length >= want) break;
          continue;
        }
        const index = await readSegmentIndex(path);
        const usable = index && index.size <= size ? index : undefined;
        const indexedTo = usable?.size ?? 0;
        // Newest first: what was appended past the index, then the indexed blocks that may match.
        const ranges: [number, number][] = indexedTo < size ? [[indexedTo, size]] : [];
        if (usable && segmentMayMatch(usable, q)) {
          for (const b of [...usable.blocks].reverse()) if (blockMayMatch(b, q, isoSince, isoUntil)) ranges.push([b.start, b.end]);
        }
        // Reading the part past the index through leaves the index extended to the end; today's only
        // every INDEX_STEP bytes, so appends do not cost a rewrite each.
        const grown = size - indexedTo;
        const builder = grown > 0 && (this.isClosed(day) || grown >= INDEX_STEP) ? new IndexBuilder(usable) : undefined;
        let tailDone = false;
        let lastEnd = -1;
        scan: for (const [from, to] of ranges) {
          const tail = from === indexedTo;
          for await (const e of this.eventsOf(path, linesBackward(fd, to, from, this.opts.chunkBytes))) {
            if (tail) {
              if (lastEnd < 0) lastEnd = e.end;
              builder?.add(e.event, e.start, e.end);
            }
            if (matches(e.event)) found.push(foundIn(path, e));
            if (found.length >= want) break scan;
          }
          if (tail) tailDone = true;
        }
        if (builder && tailDone && lastEnd > 0) await writeSegmentIndex(path, builder.build(lastEnd)).catch(() => undefined);
      } finally {
        await fd.close();
      }
      if (found.length >= want) break;
    }
    const page = found.slice(0, q.limit);
    this.rememberEnds(page);
    return { data: page.map((f) => f.event), hasNext: found.length > q.limit, hasPrev: after !== undefined };
  }

  /**
   * The page just before a cursor (newer events): walk forwards from it, then
   * reverse. With no cursor, from the oldest day's first line: the oldest page.
   */
  private async findNewerThan(q: EventFind, before: string | undefined): Promise<EventPage> {
    const cursorDay = before === undefined ? undefined : cursorDayOf(before);
    const matches = matcher(q);
    const found: Found[] = [];
    const want = q.limit + 1;
    const days = (await this.days()).filter((d) => inWindow(d, q) && (cursorDay === undefined || d >= cursorDay));
    for (const day of days) {
      const path = this.pathOf(day);
      const fd = await openForReading(path);
      if (!fd) continue;
      try {
        const size = (await fd.stat()).size;
        let from = 0;
        if (before !== undefined && day === cursorDay) {
          // Read on from the cursor's line.
          const cursor = await this.lineOf(path, fd, size, before);
          if (!cursor) refuse('INVALID_INPUT', `The cursor "${printable(before)}" is not in this list.`);
          from = cursor.end;
        }
        for await (const e of this.eventsOf(path, linesForward(fd, from, size, this.opts.chunkBytes))) {
          if (matches(e.event)) found.push(foundIn(path, e));
          if (found.length >= want) break;
        }
      } finally {
        await fd.close();
      }
      if (found.length >= want) break;
    }
    // A cursor whose day retention removed: the list simply starts after it. The cursor is older than the
    // page (so there is a next page); with none, nothing is.
    const page = found.slice(0, q.limit);
    this.rememberEnds(page);
    return { data: page.map((f) => f.event).reverse(), hasNext: before !== undefined, hasPrev: found.length > q.limit };
  }

  /**
   * The line of the event `id` in the segment at `path` of `size` bytes: its
   * id searched for in the raw bytes, and only a line that holds it parsed,
   * to be sure it is that event's. Where the day's index (segment-index.ts)
   * says which blocks span the id's time — an event's id starts with its
   * eventTime — only those and the bytes past the index are searched, so a
   * page deep in a busy day costs about what the first page does; else, or
   * if not found there (an event whose id does not carry its time), the
   * whole day, from the end (recent pages are near it).
   */
  private async lineOf(path: string, fd: FileHandle, size: number, id: string): Promise<Line | undefined> {
    const needle = Buffer.from(`"id":${JSON.stringify(id)}`);
    const isIt = (line: Line) => {
      const value = parseCheckedLine(line.text);
      return isKeywardEvent(value) && value.id === id;
    };
    const place = this.cursorPlaces.get(id);
    if (place?.path === path && place.end <= size) {
      for await (const line of linesForward(fd, place.start, place.end, this.opts.chunkBytes)) if (isIt(line)) return line;
    }
    const index = await readSegmentIndex(path);
    const time = timeOfEventId(id);
    if (index && index.size <= size && !Number.isNaN(time)) {
      const iso = new Date(time).toISOString();
      const places: [number, number][] = [[index.size, size], ...index.blocks.filter((b) => b.first <= iso && iso <= b.last).reverse().map((b): [number, number] => [b.start, b.end])];
      for (const [from, to] of places) {
        const line = from < to ? await lastLineWith(fd, from, to, needle, isIt) : undefined;
        if (line) return line;
      }
    }
    return lastLineWith(fd, 0, size, needle, isIt);
  }

  /** Parses lines into events, skipping (and reporting once) what is not one. */
  private async *eventsOf(path: string, lines: AsyncGenerator<Line>): AsyncGenerator<{ event: KeywardEvent; start: number; end: number }> {
    let bad = 0;
    try {
      for await (const line of lines) {
        const value = parseCheckedLine(line.text);
        if (isKeywardEvent(value)) yield { event: value, start: line.start, end: line.end };
        else bad++;
      }
    } finally {
      if (bad > 0 && !this.reported.has(path)) {
        this.reported.add(path);
        (this.opts.onMalformed ?? warnMalformed)(path, bad);
      }
    }
  }

  /** Notes where a page's first and last events are, for the cursors asked next. */
  private rememberEnds(page: readonly Found[]): void {
    if (page.length === 0) return;
    for (const { event, place } of [page[0], page[page.length - 1]]) {
      this.cursorPlaces.delete(event.id);
      this.cursorPlaces.set(event.id, place);
    }
    // A Map iterates in insertion order: the first keys are the oldest notes.
    for (const id of this.cursorPlaces.keys()) {
      if (this.cursorPlaces.size <= PLACES_KEPT) break;
      this.cursorPlaces.delete(id);
    }
  }

  private isClosed(day: string): boolean {
    return day < dayOf((this.opts.now ?? Date.now)());
  }
}

function byDay(events: readonly KeywardEvent[]): Map<string, KeywardEvent[]> {
  const days = new Map<string, KeywardEvent[]>();
  for (const e of events) {
    const day = dayOf(eventTime(e));
    let list = days.get(day);
    if (!list) days.set(day, (list = []));
    list.push(e);
  }
  return days;
}

/** The time that places an event in a segment: its id's, else its eventTime. */
function eventTime(e: KeywardEvent): number {
  const t = timeOfEventId(e.id);
  if (!Number.isNaN(t)) return t;
  const parsed = Date.parse(e.eventTime);
  return Number.isNaN(parsed) ? Date.now() : parsed;
}

function cursorDayOf(id: string): string {
  const t = timeOfEventId(id);
  if (Number.isNaN(t) || t > 8.64e15) refuse('INVALID_INPUT', `The cursor "${printable(id)}" is not an event id.`);
  return dayOf(t);
}

function inWindow(day: string, q: EventFind): boolean {
  const start = dayStart(day);
  if (q.since !== undefined && start + DAY <= q.since) return false;
  if (q.until !== undefined && start > q.until) return false;
  return true;
}

function matcher(q: EventFind): (e: KeywardEvent) => boolean {
  const since = q.since === undefined ? undefined : new Date(q.since).toISOString();
  const until = q.until === undefined ? undefined : new Date(q.until).toISOString();
  return (e) =>
    (q.types === undefined || q.types.includes(e.eventType)) &&
    (q.excludeTypes === undefined || !q.excludeTypes.includes(e.eventType)) &&
    (q.keyId === undefined || e.keyId === q.keyId) &&
    (q.userId === undefined || e.userId === q.userId) &&
    (since === undefined || e.eventTime >= since) &&
    (until === undefined || e.eventTime <= until);
}

function warnMalformed(file: string, lines: number): void {
  process.emitWarning(`Skipped ${lines} unreadable line${lines === 1 ? '' : 's'} in the event segment ${file}.`, { code: 'KEYWARD_EVENTS_MALFORMED' });
}
