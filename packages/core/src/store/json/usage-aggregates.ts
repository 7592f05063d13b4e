// Usage aggregates of a store (see usage-files.ts for the files): each server
// appends the counts it flushes, durably, to the file of the current hour;
// totals are the sum over every server's counts. Questions read only the
// files of the window they ask about — minutes for the last day or two, hours
// before that — and last-used.json for the rest of history, so no answer ever
// scans events, and memory follows the number of keys, not of uses.

import type { KeyUsage, UsageCount } from '../boundary.js';
import { DAY, HOUR, MINUTE, dayOf, dayStart, hourOf, hourStart } from './days.js';
import { directoryOnce, removeFile } from './files.js';
import { appendText } from './checked-line.js';
import { GroupAppender } from './group-append.js';
import { LastUses } from './last-uses.js';
import { daySumPath, hourSumPath, hoursOf, listUsage, rawPath, readHour, readRaw, readSum, type OnMalformed } from './usage-files.js';
import { UsageTally, flushParts, type Address, type RawBatch } from './usage-fold.js';
import { rollUp } from './usage-rollup.js';

export interface UsageAggregatesOptions {
  now?: () => number;
  /** Told about unreadable lines or files (once per file and process). Default: a process warning. */
  onMalformed?: OnMalformed;
  /** How often a recording process tries to roll up (0: never by itself). */
  rollUpEveryMs?: number;
}

export class UsageAggregates {
  private readonly appender = new GroupAppender();
  private readonly dirReady: () => Promise<void>;
  private readonly reported = new Set<string>();
  private readonly now: () => number;
  private readonly lastUses: LastUses;
  private lastRollUp = 0;
  private rolling?: Promise<unknown>;
  /** Flushes whose append failed, with the hours their tries went to: where a flush sent again looks for them (recordFlush). */
  private readonly unsure = new Map<string, string[]>();

  constructor(
    readonly dir: string,
    private readonly opts: UsageAggregatesOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.dirReady = directoryOnce(dir);
    this.lastUses = new LastUses(dir, this.malformed);
  }

  /**
   * Adds counts, durably. `flushedAt` is when they were counted up to (now,
   * for a server; an old event's time, for a migration): it picks the hour
   * file, so it must not be earlier than any use in `counts`.
   */
  async record(counts: readonly UsageCount[], flushedAt = this.now(), flush?: string): Promise<void> {
    if (counts.length === 0) return;
    await this.dirReady();
    const batch: RawBatch = {
      t: flushedAt,
      c: counts.map((c) => [c.keyId, c.minute, c.uses, c.lastUsed, (c.addresses ?? []).map((a): Address => [a.address, a.lastSeen])]),
    };
    if (flush !== undefined) batch.i = flush;
    await this.appender.append(rawPath(this.dir, hourOf(flushedAt)), appendText([batch]));
    this.lastUses.noteWritten(counts);
    const every = this.opts.rollUpEveryMs ?? MINUTE;
    if (every > 0 && this.now() - this.lastRollUp >= every && !this.rolling) {
      this.lastRollUp = this.now();
      // In the background: a flush never waits for a roll-up.
      this.rolling = this.rollUp().catch(() => undefined).finally(() => (this.rolling = undefined));
    }
  }

  /**
   * Adds a flush's counts once, `flush` naming it (boundary.ts recordUsage).
   * An append that failed may still have landed whole (its write made, its
   * fsync failed): sent again, the flush is looked for in the raw files of
   * the hours its earlier tries went to, and appended only if no try is
   * there: in the hour's raw file while it is there (until the hour has been
   * closed 10 minutes, usage-rollup.ts RAW_GRACE_MS), then among the flushes
   * its hour's sum, later its day's, notes as folded — until retention
   * removes that day.
   */
  async recordFlush(counts: readonly UsageCount[], flush: string): Promise<void> {
    const tried = this.unsure.get(flush);
    for (const hour of tried ?? []) {
      if (!(await this.holdsFlush(hour, flush))) continue;
      this.unsure.delete(flush);
      return;
    }
    const at = this.now();
    try {
      await this.record(counts, at, flush);
    } catch (e) {
      this.unsure.set(flush, [...(tried ?? []), hourOf(at)]);
      throw e;
    }
    this.unsure.delete(flush);
  }

  /**
   * Whether a complete line of the hour's raw file is the flush `flush` (a
   * partial line fails its check: not there); once that file is gone, whether
   * the hour's sum, or once that is gone its day's, folded it. Each is
   * written before what it folded is removed, so one found missing means the
   * next holds it all.
   */
  private async holdsFlush(hour: string, flush: string): Promise<boolean> {
    let found = false;
    const read = await readRaw(rawPath(this.dir, hour), 0, (b) => (found ||= b.i === flush), this.malformed);
    if (read !== undefined) return found;
    const name = flushParts(flush);
    if (name === undefined) return false;
    const sum = (await readSum(hourSumPath(this.dir, hour), this.malformed)) ?? (await readSum(daySumPath(this.dir, hour.slice(0, 10)), this.malformed));
    return (sum?.f?.[name.by] ?? -1) >= name.seq;
  }

  /** Uses per key since a time (minute precision for the last day, hour precision before), summed over every server. */
  async usageSince(since: number, keyIds?: readonly string[]): Promise<KeyUsage[]> {
    const wanted = keyIds === undefined ? undefined : new Set(keyIds);
    const tally = new UsageTally();
    const count = (keyId: string, buckets: readonly [number, number][], width: number, lastUsed: number, addresses: readonly Address[]) => {
      if (wanted && !wanted.has(keyId)) return;
      let uses = 0;
      for (const [start, n] of buckets) if ((start + width) * MINUTE > since) uses += n;
      if (uses > 0) tally.add(keyId, uses, lastUsed, addresses);
    };
    const listing = await listUsage(this.dir);
    const firstHour = hourOf(since);
    const firstDay = dayOf(since);
    const daySums = new Set(listing.daySums);
    for (const day of listing.daySums) {
      if (day < firstDay) continue;
      const sum = await readSum(daySumPath(this.dir, day), this.malformed);
      if (sum) for (const [keyId, k] of Object.entries(sum.keys)) count(keyId, k.b, 60, k.l, k.a);
    }
    for (const hour of hoursOf(listing)) {
      if (hour < firstHour || daySums.has(hour.slice(0, 10))) continue;
      await readHour(this.dir, hour, (keyId, k) => count(keyId, k.b, 1, k.l, k.a), this.malformed);
    }
    const out = tally.all();
    if (wanted) for (const keyId of wanted) if (!tally.has(keyId)) out.push({ keyId, uses: 0, lastUsedFrom: [] });
    return out;
  }

  /**
   * Last use and last addresses of these keys, ever (retention leaves
   * last-used.json alone): from memory, brought up to date with what was
   * appended since it was last asked (last-uses.ts).
   */
  lastUsedOf(keyIds: readonly string[]): Promise<Map<string, KeyUsage>> {
    return this.lastUses.of(keyIds);
  }

  /** Removes the usage of every whole day that ends at or before `before` (last-used.json keeps each key's last use). */
  async removeBefore(before: number): Promise<void> {
    const listing = await listUsage(this.dir);
    const ended = (day: string) => dayStart(day) + DAY <= before;
    for (const day of listing.daySums) if (ended(day)) await removeFile(daySumPath(this.dir, day));
    for (const hour of listing.hourSums) if (hourStart(hour) + HOUR <= before && ended(hour.slice(0, 10))) await removeFile(hourSumPath(this.dir, hour));
    for (const hour of listing.raw) if (ended(hour.slice(0, 10))) await removeFile(rawPath(this.dir, hour));
  }

  /** Folds closed hours and old days now (also done in the background by a recording process). */
  rollUp(): Promise<boolean> {
    return rollUp(this.dir, this.now(), this.malformed);
  }

  /** Settles appends and a roll-up still in flight, and stops following the folder. */
  async close(): Promise<void> {
    this.lastUses.close();
    await this.idle();
  }

  /** Settles appends and a roll-up still in flight. */
  async idle(): Promise<void> {
    await this.appender.idle();
    await this.rolling;
  }

  private readonly malformed: OnMalformed = (file, n) => {
    if (this.reported.has(file)) return;
    this.reported.add(file);
    if (this.opts.onMalformed) this.opts.onMalformed(file, n);
    else process.emitWarning(`Skipped ${n} unreadable record${n === 1 ? '' : 's'} in the usage file ${file}.`, { code: 'KEYWARD_USAGE_MALFORMED' });
  };
}
