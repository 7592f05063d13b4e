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

export class UsageRecorder {
  uses = new Map<string, PendingUse>();
  failures = new Map<string, PendingFailure>();
  candidates: ExcessiveCandidate[] = [];
  // Per key: the current minute and its count, to spot a burst as it happens.
  private minutes = new Map<string, { minute: number; count: number }>();

  recordUse(keyId: string, now: number, threshold: number): void {
    const p = this.uses.get(keyId);
    if (p) {
      p.uses++;
      p.last = now;
    } else {
      this.uses.set(keyId, { uses: 1, first: now, last: now });
    }
    const minute = Math.floor(now / MINUTE);
    let m = this.minutes.get(keyId);
    if (!m || m.minute !== minute) {
      m = { minute, count: 0 };
      this.minutes.set(keyId, m);
    }
    m.count++;
    // Check when the threshold is crossed and again at each further multiple,
    // so a key that is busy every minute is not re-examined on every use.
    if (m.count > threshold && (m.count - 1) % threshold === 0) {
      this.candidates.push({ keyId, minuteUses: m.count, at: now });
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
    return this.uses.size === 0 && this.failures.size === 0 && this.candidates.length === 0;
  }

  /** Hands over everything counted so far and starts afresh. */
  drain(now: number): { uses: Map<string, PendingUse>; failures: Map<string, PendingFailure>; candidates: ExcessiveCandidate[] } {
    const out = { uses: this.uses, failures: this.failures, candidates: this.candidates };
    this.uses = new Map();
    this.failures = new Map();
    this.candidates = [];
    // Minute counters older than the current minute are of no further use.
    const current = Math.floor(now / MINUTE);
    for (const [k, m] of this.minutes) if (m.minute < current - 1) this.minutes.delete(k);
    return out;
  }

  /** Puts a drained batch back (the flush failed), so nothing is lost. */
  restore(batch: ReturnType<UsageRecorder['drain']>): void {
    for (const [k, u] of batch.uses) {
      const p = this.uses.get(k);
      if (p) {
        p.uses += u.uses;
        p.first = Math.min(p.first, u.first);
        p.last = Math.max(p.last, u.last);
      } else this.uses.set(k, u);
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
