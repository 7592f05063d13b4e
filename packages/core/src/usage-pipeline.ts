// Usage, from the verifier's counters to the store: on an interval (and on
// close) the counts go to the store's aggregates, with one `api-key.used`
// event per key and one `api-key.auth-failed` per key (or anonymous) per
// flush. Excessive use (policy's rule: a minute far above the key's daily
// average) is flagged here from the aggregates, never by scanning events. "Last used" is
// the aggregates' answer plus what this process has not flushed yet.

import { type KeywardEvent, settingsOf } from './domain.js';
import type { Clock } from './clock.js';
import { newEvent } from './events.js';
import { KeywardError, reasonOnly } from './refusal.js';
import { beatsUseThreshold, excessiveUse, EXCESSIVE_USE_QUIET_MS, mayFlagExcessiveUse } from './policy.js';
import { randomHex } from './random.js';
import { keptAfter, retentionCut } from './retention.js';
import type { FlushId, KeyUsage, Store, UsageCount } from './store/boundary.js';
import { copyOfSighting, mergeAddresses } from './store/usage-aggregates.js';
import { type Drained, UsageRecorder, addressesSeen } from './usage.js';

const DAY = 86_400_000;
// How long the store's answer about a key's last use is reused. "Last used"
// may lag by a flush interval anyway (DESIGN.md), and asking the aggregates
// on every GET of a key costs the request path a read of the usage files.
const LAST_USED_REUSE_MS = 1000;
const LAST_USED_CACHED = 50_000;

/**
 * A last use of the store's as this process hands it on, in one shape: the
 * store's answers come in several (a row read, a flush merged in, frozen or
 * not, lastUsed there or not), and every read (a list's rows, a verify's
 * answer) passes them on through the same few functions — which V8
 * optimized for the shapes seen so far and threw away at each new one, then
 * compiled again, for as long as a server ran. Same fields, same values.
 */
function copyOf(u: KeyUsage): KeyUsage {
  return { keyId: u.keyId, uses: u.uses, lastUsed: u.lastUsed, lastUsedFrom: u.lastUsedFrom.map(copyOfSighting) };
}

/** One flush as sent to the store: its counts and events, made once from one drained batch. */
interface Flush {
  batch: Drained;
  flush: FlushId;
  counts: UsageCount[];
  events: KeywardEvent[];
}

export class UsagePipeline {
  readonly recorder = new UsageRecorder();
  private timer?: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();
  // The batch being written: counted as pending until the store has it, so a
  // usage question asked meanwhile finds it in one place or the other.
  private inFlight?: Drained;
  // A flush whose write failed (its answer lost, or refused): sent again
  // whole, under its name, before anything else, so a store that had applied
  // it skips it (boundary.ts recordUsage) — put back among the counts and
  // sent as part of a new flush, it was counted twice. Pending until then.
  private unsent?: Flush;
  // This pipeline's flushes' names: its own id, and their number.
  private readonly flusher = randomHex(8);
  private flushes = 0;
  // When this process last flagged each key (the store is asked too: other processes flag).
  private readonly lastFlagged = new Map<string, number>();
  // The store's last use of keys lately asked about (null: never used), with when it was asked.
  private lastUsedSeen = new Map<string, { asked: number; usage: KeyUsage | null }>();
  // Counts every write of usage by this process: an answer asked before one is not kept.
  private written = 0;
  // How flushes have gone, for a server's metrics (gauges).
  private readonly flushed = { ok: 0, failed: 0, lastOkAt: 0 };

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    everyMs: number,
  ) {
    if (everyMs > 0) {
      this.timer = setInterval(() => void this.flush().catch(() => undefined), everyMs);
      this.timer.unref();
    }
  }

  /** Writes what was counted to the store; counts the store refuses are kept for the next flush. */
  flush(): Promise<void> {
    // One flush at a time; one that failed does not stop the next.
    const next = this.flushing
      .catch(() => undefined)
      .then(() => this.flushNow())
      .then(
        () => {
          this.flushed.ok++;
          this.flushed.lastOkAt = this.clock.now();
        },
        (e: unknown) => {
          this.flushed.failed++;
          throw e;
        },
      );
    this.flushing = next;
    return next;
  }

  /**
   * For a server's metrics: uses counted here and not yet in the store (in
   * memory, being written, or kept after a failed write to be sent again),
   * and how flushes have gone — an operator's sign that the database is
   * refusing what this server counts, before the uses are lost with it.
   */
  gauges(): { pendingUses: number; flushes: number; failedFlushes: number; lastFlushAt: number } {
    const inBatch = (b: Drained | undefined) => (b ? b.uses.reduce((n, u) => n + u.uses, 0) : 0);
    const pendingUses = this.recorder.pendingUses() + inBatch(this.inFlight) + inBatch(this.unsent?.batch);
    return { pendingUses, flushes: this.flushed.ok, failedFlushes: this.flushed.failed, lastFlushAt: this.flushed.lastOkAt };
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    try {
      await this.flush();
    } catch (e) {
      throw this.lostAsItCloses(e);
    }
    // Every flush answered (a failed one threw above, its name kept: it may have committed, and is never
    // told): none is sent again, so the store may forget this flusher (PostgreSQL kept a row per process).
    // Not forgotten, it goes with retention's sweep as before.
    if (this.flushes > 0 && this.unsent === undefined) await this.store.flusherDone?.(this.flusher).catch(() => undefined);
  }

  /**
   * The last flush refused as the process ends: UNAVAILABLE says the store
   * took none of it (the database away, a full disk), so the uses counted
   * since the flush before are lost, and are named as such. Any other
   * refusal (OUTCOME_UNKNOWN: it may have committed) says what it says.
   */
  private lostAsItCloses(e: unknown): unknown {
    if (!(e instanceof KeywardError) || e.code !== 'UNAVAILABLE') return e;
    const keys = this.pendingKeyIds();
    const uses = keys.reduce((sum, id) => sum + this.pendingUses(id), 0);
    if (uses === 0) return e;
    const counted = `${uses} ${uses === 1 ? 'use' : 'uses'} of ${keys.length} ${keys.length === 1 ? 'key' : 'keys'}`;
    return new KeywardError('UNAVAILABLE', `${counted} counted since the last flush could not be written and are lost. ${reasonOnly(e)}.`);
  }

  /** The batch the store may not have yet: being written, or kept to be sent again. */
  private get held(): Drained | undefined {
    return this.inFlight ?? this.unsent?.batch;
  }

  /** Uses not yet flushed by this process. */
  pendingUses(keyId: string): number {
    const writing = this.held?.uses.find((u) => u.keyId === keyId)?.uses ?? 0;
    return (this.recorder.pending(keyId)?.uses ?? 0) + writing;
  }

  pendingKeyIds(): string[] {
    const ids = this.recorder.pendingKeyIds();
    const held = this.held;
    if (!held) return ids;
    return [...new Set([...ids, ...held.uses.map((u) => u.keyId)])];
  }

  /**
   * Uses per key since a time: the store's aggregates plus what this process
   * has not written yet, each use counted once — a store read that overlapped
   * a batch landing is read again.
   */
  async usesSince(since: number): Promise<Map<string, number>> {
    let counted: KeyUsage[];
    for (;;) {
      // While a batch is being written the store may or may not have it yet,
      // and it is still counted as pending here: wait for it to land first.
      while (this.written % 2 === 1) await this.flushing.catch(() => undefined);
      const before = this.written;
      counted = await this.store.usageSince(since);
      if (this.written === before) break;
    }
    const uses = new Map(counted.map((u) => [u.keyId, u.uses]));
    for (const id of this.pendingKeyIds()) uses.set(id, (uses.get(id) ?? 0) + this.pendingUses(id));
    return uses;
  }

  /** Last use (ever) of these keys: the store's aggregates plus this process's unflushed uses. */
  async lastUsedOf(keyIds: readonly string[]): Promise<Map<string, KeyUsage>> {
    const stored = await this.storedLastUse(keyIds);
    for (const id of keyIds) {
      const p = this.recorder.pending(id);
      // A batch being written (or to be sent again) is in neither the recorder nor (yet) the store's answer.
      const writing = this.held?.uses.find((u) => u.keyId === id);
      if (!p && !writing) continue;
      const s = stored.get(id);
      const mine = p ? addressesSeen(p) : [];
      stored.set(id, {
        keyId: id,
        uses: (s?.uses ?? 0) + (p?.uses ?? 0),
        lastUsed: Math.max(s?.lastUsed ?? -Infinity, p?.last ?? -Infinity, writing?.last ?? -Infinity),
        lastUsedFrom: mergeAddresses(mergeAddresses(s?.lastUsedFrom ?? [], writing?.addresses ?? []), mine),
      });
    }
    return stored;
  }

  /**
   * `api-key.new-address` for each address a key was used from that is not
   * among its known last addresses — never for a key's very first address.
   */
  private async newAddresses(batch: Drained): Promise<KeywardEvent[]> {
    const withAddresses = batch.uses.filter((u) => u.addresses.length > 0);
    if (withAddresses.length === 0) return [];
    const known = await this.store.lastUsedOf(withAddresses.map((u) => u.keyId));
    const events: KeywardEvent[] = [];
    for (const u of withAddresses) {
      const before = known.get(u.keyId)?.lastUsedFrom ?? [];
      const seen = new Set(before.map((a) => a.address));
      // A key's first use of all has no address to compare with: its first address is not news.
      if (seen.size === 0) seen.add([...u.addresses].sort((a, b) => a.lastSeen - b.lastSeen)[0].address);
      for (const a of u.addresses) {
        if (seen.has(a.address)) continue;
        seen.add(a.address);
        events.push(newEvent('api-key.new-address', a.lastSeen, u.owner, u.keyId, { address: a.address, known: before.map((b) => b.address) }));
      }
    }
    return events;
  }

  /**
   * The store's answer, reused for a moment per key: copied (copyOf) once as
   * it comes, and that copy handed out while it is reused — a list page asked
   * for a copy of each of its rows' last uses on every request. Nobody changes
   * a last use handed out (lastUsedOf makes a new one to merge pending uses in).
   */
  private async storedLastUse(keyIds: readonly string[]): Promise<Map<string, KeyUsage>> {
    const now = performance.now();
    const out = new Map<string, KeyUsage>();
    const ask: string[] = [];
    for (const id of keyIds) {
      const seen = this.lastUsedSeen.get(id);
      if (seen === undefined || now - seen.asked > LAST_USED_REUSE_MS) ask.push(id);
      else if (seen.usage) out.set(id, seen.usage);
    }
    if (ask.length === 0) return out;
    const written = this.written;
    const answer = await this.store.lastUsedOf(ask);
    const keep = written === this.written;
    if (keep && this.lastUsedSeen.size + ask.length > LAST_USED_CACHED) this.lastUsedSeen = new Map();
    for (const id of ask) {
      const got = answer.get(id);
      const u = got && copyOf(got);
      if (keep) this.lastUsedSeen.set(id, { asked: now, usage: u ?? null });
      if (u) out.set(id, u);
    }
    return out;
  }

  private async flushNow(): Promise<void> {
    if (this.unsent) await this.write(this.unsent);
    if (this.recorder.isEmpty) return;
    const batch = this.recorder.drain(this.clock.now());
    this.inFlight = batch;
    let counts: UsageCount[];
    let events: KeywardEvent[];
    try {
      counts = [];
      events = [];
      for (const u of batch.uses) {
        for (const m of u.minutes) {
          const c: UsageCount = { keyId: u.keyId, minute: m.minute, uses: m.uses, lastUsed: m.lastUsed };
          if (u.addresses.length > 0 && m === u.minutes[u.minutes.length - 1]) c.addresses = u.addresses;
          counts.push(c);
        }
        events.push(newEvent('api-key.used', u.last, u.owner, u.keyId, { uses: u.uses, from: new Date(u.first).toISOString(), to: new Date(u.last).toISOString() }));
      }
      for (const [keyId, f] of batch.failures) {
        events.push(newEvent('api-key.auth-failed', f.last, f.owner ?? 'anonymous', keyId || undefined, { count: f.count, reasons: f.reasons, from: new Date(f.first).toISOString(), to: new Date(f.last).toISOString() }));
        const reused = f.reasons['reused-after-rotation'];
        if (reused) events.push(newEvent('api-key.reused-after-rotation', f.last, f.owner ?? 'anonymous', keyId, { count: reused, from: new Date(f.first).toISOString(), to: new Date(f.last).toISOString() }));
      }
      events.push(...(await this.excessive(batch)));
      events.push(...(await this.newAddresses(batch)));
    } catch (e) {
      // Nothing was sent: the counts go back, to be flushed with the next ones.
      this.recorder.restore(batch);
      this.inFlight = undefined;
      throw e;
    }
    await this.write({ batch, flush: { by: this.flusher, seq: ++this.flushes }, counts, events });
  }

  /**
   * Sends one flush; failed, it is kept to be sent again as it is (`unsent`),
   * and its uses stay pending. What is past the tenant's retention by now is
   * left out (retention.ts keptAfter): sent again after a sweep removed its
   * day, its name and events with it, it was counted again.
   */
  private async write(f: Flush): Promise<void> {
    this.inFlight = f.batch;
    this.unsent = undefined;
    // Odd while the store is being written (see usesSince), even again however it ends.
    this.written++;
    try {
      const tenant = await this.store.tenant();
      const kept = keptAfter(tenant && retentionCut(tenant, this.clock.now()), f.counts, f.events);
      await this.store.recordUsage(kept.counts, kept.events, f.flush);
    } catch (e) {
      this.unsent = f;
      throw e;
    } finally {
      this.written++;
      this.inFlight = undefined;
    }
    // What was just written is no longer pending here: ask the store afresh.
    for (const u of f.batch.uses) this.lastUsedSeen.delete(u.keyId);
  }

  /**
   * Flags each key whose busiest minute in the batch is excessive use
   * (policy's excessiveUse), at most once an hour per key, across every
   * process on the store.
   */
  private async excessive(batch: Drained): Promise<KeywardEvent[]> {
    const tenant = await this.store.tenant();
    if (!tenant) return [];
    const settings = settingsOf(tenant);
    const out: KeywardEvent[] = [];
    for (const u of batch.uses) {
      const busiest = u.minutes.reduce((a, b) => (b.minuteUses > a.minuteUses ? b : a));
      // The day's uses are read only for a minute that may be excessive.
      if (!beatsUseThreshold(busiest.minuteUses, settings)) continue;
      const at = busiest.lastUsed;
      if (!mayFlagExcessiveUse(this.lastFlagged.get(u.keyId), at)) continue;
      const [stored] = await this.store.usageSince(at - DAY, [u.keyId]);
      const verdict = excessiveUse(busiest.minuteUses, (stored?.uses ?? 0) + u.uses, settings);
      if (!verdict.excessive) continue;
      const recent = await this.store.findEvents({ types: ['api-key.excessive-use'], keyId: u.keyId, since: at - EXCESSIVE_USE_QUIET_MS, limit: 1 });
      if (recent.data.length > 0) continue;
      this.lastFlagged.set(u.keyId, at);
      out.push(
        newEvent('api-key.excessive-use', at, u.owner, u.keyId, {
          usesInMinute: busiest.minuteUses,
          threshold: settings.excessiveUsePerMinute,
          dailyAveragePerMinute: Math.round(verdict.dailyAveragePerMinute * 100) / 100,
        }),
      );
    }
    return out;
  }
}
