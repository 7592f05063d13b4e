// Counts uses and failed authentications in memory, so verify never writes to
// disk. The engine drains the counts into aggregated events on an interval
// and on close: one `api-key.used` event per key per interval, carrying how
// many uses it stands for.

export interface PendingUse {
  uses: number;
  first: number;
  last: number;
}

export type FailureReason = 'malformed' | 'unknown' | 'expired' | 'revoked';

export interface PendingFailure {
  count: number;
  reasons: Partial<Record<FailureReason, number>>;
  first: number;
  last: number;
}

/** A key whose uses in one minute crossed the tenant threshold; the engine decides whether it is excessive. */
export interface ExcessiveCandidate {
  keyId: string;
  minuteUses: number;
  at: number;
}

const MINUTE = 60_000;

export interface KeyCounter extends PendingUse {
  /** The minute (ms / 60 000) being counted, and its uses, to spot a burst as it happens. */
  minute: number;
  minuteUses: number;
}

export class UsageRecorder {
  // One entry per key in use: verify touches a single Map entry per call.
  private counters = new Map<string, KeyCounter>();
  failures = new Map<string, PendingFailure>();
  candidates: ExcessiveCandidate[] = [];

  /** Uses counted since the last drain. */
  pending(keyId: string): PendingUse | undefined {
    const c = this.counters.get(keyId);
    return c !== undefined && c.uses > 0 ? c : undefined;
  }

  /** The counter of a key, created on first use; verify keeps a reference to it. */
  counterFor(keyId: string): KeyCounter {
    let c = this.counters.get(keyId);
    if (c === undefined) {
      c = { uses: 0, first: 0, last: 0, minute: 0, minuteUses: 0 };
      this.counters.set(keyId, c);
    }
    return c;
  }

  recordUse(keyId: string, now: number, threshold: number, counter = this.counterFor(keyId)): void {
    const c = counter;
    if (c.uses === 0) c.first = now;
    c.uses++;
    c.last = now;
    const minute = Math.floor(now / MINUTE);
    if (c.minute !== minute) {
      c.minute = minute;
      c.minuteUses = 0;
    }
    // Check when the threshold is crossed and again at each further multiple,
    // so a key that is busy every minute is not re-examined on every use.
    if (++c.minuteUses > threshold && (c.minuteUses - 1) % threshold === 0) {
      this.candidates.push({ keyId, minuteUses: c.minuteUses, at: now });
    }
  }

  recordFailure(keyId: string | undefined, reason: FailureReason, now: number): void {
    const k = keyId ?? '';
    const f = this.failures.get(k);
    if (f) {
      f.count++;
      f.reasons[reason] = (f.reasons[reason] ?? 0) + 1;
      f.last = now;
    } else {
      this.failures.set(k, { count: 1, reasons: { [reason]: 1 }, first: now, last: now });
    }
  }

  get isEmpty(): boolean {
    if (this.failures.size > 0 || this.candidates.length > 0) return false;
    for (const c of this.counters.values()) if (c.uses > 0) return false;
    return true;
  }

  /** Hands over everything counted so far and starts afresh. */
  drain(now: number): { uses: Map<string, PendingUse>; failures: Map<string, PendingFailure>; candidates: ExcessiveCandidate[] } {
    const uses = new Map<string, PendingUse>();
    const current = Math.floor(now / MINUTE);
    for (const [k, c] of this.counters) {
      if (c.uses > 0) {
        uses.set(k, { uses: c.uses, first: c.first, last: c.last });
        c.uses = 0;
      } else if (c.minute < current - 1) {
        // Idle: forget its minute count (verify may still hold the object;
        // the next use through it starts a new minute, which is right).
        this.counters.delete(k);
      }
    }
    const out = { uses, failures: this.failures, candidates: this.candidates };
    this.failures = new Map();
    this.candidates = [];
    return out;
  }

  /** Puts a drained batch back (the flush failed), so nothing is lost. */
  restore(batch: ReturnType<UsageRecorder['drain']>): void {
    for (const [k, u] of batch.uses) {
      const c = this.counters.get(k);
      if (c) {
        c.first = c.uses > 0 ? Math.min(c.first, u.first) : u.first;
        c.uses += u.uses;
        c.last = Math.max(c.last, u.last);
      } else this.counters.set(k, { ...u, minute: 0, minuteUses: 0 });
    }
    for (const [k, f] of batch.failures) {
      const p = this.failures.get(k);
      if (p) {
        p.count += f.count;
        for (const [r, n] of Object.entries(f.reasons)) p.reasons[r as FailureReason] = (p.reasons[r as FailureReason] ?? 0) + (n ?? 0);
      } else this.failures.set(k, f);
    }
    this.candidates.unshift(...batch.candidates);
  }
}
