// Counts uses and failed authentications in memory, so verify never writes to
// disk. The usage pipeline drains the counts on an interval and on close into
// the store's usage aggregates (uses per key per minute, with the addresses
// seen) and one aggregated `api-key.used` event per key per drain.

/** Why a token did not authenticate, as verify answers it. */
export type VerifyFailure = 'malformed' | 'unknown' | 'expired' | 'revoked' | 'unlicensed';
/** As counted: an expired token of a rotated key is told `expired`, and counted apart as a sign a copy is still out there. */
export type FailureReason = VerifyFailure | 'reused-after-rotation';

export interface PendingFailure {
  owner?: string;
  count: number;
  reasons: Partial<Record<FailureReason, number>>;
  first: number;
  last: number;
}

/** Uses of one key in one minute, counted since the last drain. */
export interface MinuteCount {
  minute: number;
  /** Uses since the last drain. */
  uses: number;
  /** Every use of the minute seen by this process (excessive use compares this). */
  minuteUses: number;
  lastUsed: number;
}

const MINUTE = 60_000;

/** One key's counter; the verifier keeps a reference to it, so a use costs no lookup. */
export interface KeyCounter {
  readonly keyId: string;
  owner: string;
  /** Uses since the last drain, and when the first and last of them were. */
  uses: number;
  first: number;
  last: number;
  /** The minute (ms / 60 000) being counted: all its uses, and those not yet drained. */
  minute: number;
  minuteUses: number;
  minuteUndrained: number;
  /** Earlier minutes not yet drained (a drain interval that spans a minute's end). */
  closed?: MinuteCount[];
  /**
   * Client addresses seen since the last drain, each with when it was last
   * seen: a holder changed in place, so a use from an address already seen
   * allocates nothing (a number put into a Map is a new heap number each time).
   */
  addresses?: Map<string, { lastSeen: number }>;
  /** False once a drain forgot the idle counter; the next use puts it back. */
  registered: boolean;
}

export interface DrainedUse {
  keyId: string;
  owner: string;
  uses: number;
  first: number;
  last: number;
  minutes: MinuteCount[];
  addresses: { address: string; lastSeen: number }[];
}

export interface Drained {
  uses: DrainedUse[];
  failures: Map<string, PendingFailure>;
}

/** The addresses a counter saw since the last drain, each with when it was last seen. */
export function addressesSeen(c: KeyCounter): { address: string; lastSeen: number }[] {
  return [...(c.addresses ?? [])].map(([address, seen]) => ({ address, lastSeen: seen.lastSeen }));
}

export class UsageRecorder {
  // One entry per key in use: verify touches a single counter per call.
  private counters = new Map<string, KeyCounter>();
  private failures = new Map<string, PendingFailure>();

  /** The counter of a key, created on first use; the verifier keeps a reference to it. */
  counterFor(keyId: string, owner: string): KeyCounter {
    let c = this.counters.get(keyId);
    if (c === undefined) {
      c = { keyId, owner, uses: 0, first: 0, last: 0, minute: 0, minuteUses: 0, minuteUndrained: 0, registered: true };
      this.counters.set(keyId, c);
    }
    return c;
  }

  /** Uses counted since the last drain. */
  pending(keyId: string): KeyCounter | undefined {
    const c = this.counters.get(keyId);
    return c !== undefined && c.uses > 0 ? c : undefined;
  }

  /** Uses counted and not yet drained, over every key (a server's metrics). */
  pendingUses(): number {
    let n = 0;
    for (const c of this.counters.values()) n += c.uses;
    return n;
  }

  /** Keys with uses not yet drained. */
  pendingKeyIds(): string[] {
    const ids: string[] = [];
    for (const c of this.counters.values()) if (c.uses > 0) ids.push(c.keyId);
    return ids;
  }

  /** The hot path: a few field updates; a branch once a minute per key. */
  recordUse(c: KeyCounter, now: number, address?: string): void {
    if (!c.registered) {
      c.registered = true;
      this.counters.set(c.keyId, c);
    }
    const minute = Math.floor(now / MINUTE);
    if (minute !== c.minute) {
      if (c.minuteUndrained > 0) (c.closed ??= []).push({ minute: c.minute, uses: c.minuteUndrained, minuteUses: c.minuteUses, lastUsed: c.last });
      c.minute = minute;
      c.minuteUses = 0;
      c.minuteUndrained = 0;
    }
    if (c.uses === 0) c.first = now;
    c.uses++;
    c.last = now;
    c.minuteUses++;
    c.minuteUndrained++;
    if (address !== undefined) {
      const seen = (c.addresses ??= new Map()).get(address);
      if (seen !== undefined) seen.lastSeen = now;
      else c.addresses.set(address, { lastSeen: now });
    }
  }

  recordFailure(keyId: string | undefined, owner: string | undefined, reason: FailureReason, now: number): void {
    const k = keyId ?? '';
    const f = this.failures.get(k);
    if (f) {
      f.count++;
      f.reasons[reason] = (f.reasons[reason] ?? 0) + 1;
      f.last = now;
    } else {
      const fresh: PendingFailure = { count: 1, reasons: { [reason]: 1 }, first: now, last: now };
      if (owner !== undefined) fresh.owner = owner;
      this.failures.set(k, fresh);
    }
  }

  get isEmpty(): boolean {
    if (this.failures.size > 0) return false;
    for (const c of this.counters.values()) if (c.uses > 0) return false;
    return true;
  }

  /** Hands over everything counted so far and starts afresh. */
  drain(now: number): Drained {
    const uses: DrainedUse[] = [];
    const current = Math.floor(now / MINUTE);
    for (const [k, c] of this.counters) {
      if (c.uses > 0) {
        const minutes = [...(c.closed ?? []), { minute: c.minute, uses: c.minuteUndrained, minuteUses: c.minuteUses, lastUsed: c.last }].filter((m) => m.uses > 0);
        uses.push({ keyId: k, owner: c.owner, uses: c.uses, first: c.first, last: c.last, minutes, addresses: addressesSeen(c) });
        c.uses = 0;
        c.minuteUndrained = 0;
        c.closed = undefined;
        c.addresses = undefined;
      } else if (c.minute < current - 1) {
        // Idle: forget it. The verifier may still hold it; its next use registers it again.
        c.registered = false;
        this.counters.delete(k);
      }
    }
    const failures = this.failures;
    this.failures = new Map();
    return { uses, failures };
  }

  /** Puts a drained batch back (the store refused it), so nothing is lost. */
  restore(batch: Drained): void {
    for (const u of batch.uses) {
      const c = this.counterFor(u.keyId, u.owner);
      if (!c.registered) {
        c.registered = true;
        this.counters.set(c.keyId, c);
      }
      c.first = c.uses > 0 ? Math.min(c.first, u.first) : u.first;
      c.uses += u.uses;
      c.last = Math.max(c.last, u.last);
      // Minutes go back as closed ones; the current minute's own count carries on.
      c.closed = [...u.minutes, ...(c.closed ?? [])];
      for (const a of u.addresses) if ((c.addresses?.get(a.address)?.lastSeen ?? -Infinity) < a.lastSeen) (c.addresses ??= new Map()).set(a.address, { lastSeen: a.lastSeen });
    }
    for (const [k, f] of batch.failures) {
      const p = this.failures.get(k);
      if (p) {
        p.count += f.count;
        p.first = Math.min(p.first, f.first);
        for (const [r, n] of Object.entries(f.reasons)) p.reasons[r as FailureReason] = (p.reasons[r as FailureReason] ?? 0) + (n ?? 0);
      } else this.failures.set(k, f);
    }
  }
}
