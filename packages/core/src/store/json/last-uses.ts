// Every key's last use and last addresses, kept in memory by the embedded
// store so that "last used" on a list page costs no file I/O: loaded once
// from last-used.json and the raw files past where it folded them, then
// brought up to date by reading only what was appended since. This process's
// own counts are folded in as soon as they are durable; other processes'
// flushes (and roll-ups) wake a watch on the usage folder, with a poll in
// case a watch event is lost, and the next question reads what they added.
// Folding a last use twice changes nothing ("latest wins", usage-fold.ts),
// so reading something again is only ever wasted work, never a wrong answer.

import { join } from 'node:path';
import type { KeyUsage, UsageCount } from '../boundary.js';
import { type Following, followFolder } from './follow.js';
import { LAST_USED, listUsage, rawPath, readRaw, readSum, type OnMalformed } from './usage-files.js';
import { UsageTally } from './usage-fold.js';

/**
 * The longest another process's flush can go unseen here when the platform
 * drops or lacks watch events. "Last used" may lag by the flush interval
 * anyway (DESIGN.md, 5 s by default); a watch usually wakes within a few ms.
 */
export const LAST_USES_POLL_MS = 500;

export class LastUses {
  private readonly tally = new UsageTally();
  /** Each raw hour file still there: how many of its bytes are folded in here. */
  private readonly readTo = new Map<string, number>();
  private loaded = false;
  /** Something in the folder may have changed since the last read (a wake, or nothing read yet). */
  private stale = true;
  private reading?: Promise<void>;
  private follower?: Following;
  private watchTried = -Infinity;
  private closed = false;

  constructor(
    private readonly dir: string,
    private readonly malformed: OnMalformed,
  ) {}

  /** Last use and last addresses of these keys, ever; a key never used has neither. */
  async of(keyIds: readonly string[]): Promise<Map<string, KeyUsage>> {
    this.watch();
    // A change noticed while a read was under way needs a read that starts after it.
    while (this.stale) await this.readNew();
    const out = new Map<string, KeyUsage>();
    for (const keyId of keyIds) out.set(keyId, this.tally.get(keyId) ?? { keyId, uses: 0, lastUsedFrom: [] });
    return out;
  }

  /** Counts this process has just made durable in a raw file (reading them there later changes nothing). */
  noteWritten(counts: readonly UsageCount[]): void {
    if (!this.loaded) return; // the first read will find them
    for (const c of counts) this.tally.add(c.keyId, 0, c.lastUsed, (c.addresses ?? []).map((a) => [a.address, a.lastSeen]));
  }

  close(): void {
    this.closed = true;
    this.follower?.stop();
    this.follower = undefined;
  }

  /** Follows the folder from the first question on; a folder not made yet is tried again once a poll interval. */
  private watch(): void {
    if (this.closed || this.follower?.watching) return;
    const now = performance.now();
    if (this.follower && now - this.watchTried < LAST_USES_POLL_MS) return;
    this.watchTried = now;
    this.follower?.stop();
    this.follower = followFolder(this.dir, LAST_USES_POLL_MS, () => (this.stale = true));
    this.stale = true; // what was written before the watch began is read now
  }

  private readNew(): Promise<void> {
    this.reading ??= this.read().finally(() => (this.reading = undefined));
    return this.reading;
  }

  private async read(): Promise<void> {
    this.stale = false; // a wake from here on asks for another read
    try {
      let listing = await listUsage(this.dir);
      // A raw file gone since the last read was folded whole into last-used.json before a roll-up removed it.
      let fromLastUsed = !this.loaded || [...this.readTo.keys()].some((hour) => !listing.raw.includes(hour));
      for (let attempt = 0; attempt < 3; attempt++) {
        if (fromLastUsed) await this.readLastUsed();
        let vanished = false;
        for (const hour of listing.raw) {
          const end = await readRaw(
            rawPath(this.dir, hour),
            this.readTo.get(hour) ?? 0,
            (batch) => {
              for (const [keyId, , , lastUsed, addresses] of batch.c) this.tally.add(keyId, 0, lastUsed, addresses);
            },
            this.malformed,
          );
          if (end === undefined) vanished = true;
          else this.readTo.set(hour, end);
        }
        for (const hour of [...this.readTo.keys()]) if (!listing.raw.includes(hour)) this.readTo.delete(hour);
        if (!vanished) break;
        fromLastUsed = true;
        listing = await listUsage(this.dir);
      }
      this.loaded = true;
    } catch (e) {
      this.stale = true; // the next question reads again
      throw e;
    }
  }

  /** Folds last-used.json in, and starts each raw file it has folded where it stopped. */
  private async readLastUsed(): Promise<void> {
    const last = await readSum(join(this.dir, LAST_USED), this.malformed);
    if (!last) return;
    for (const [keyId, k] of Object.entries(last.keys)) this.tally.add(keyId, 0, k.l, k.a);
    for (const [hour, end] of Object.entries(last.folded ?? {})) if (end > (this.readTo.get(hour) ?? 0)) this.readTo.set(hour, end);
  }
}
