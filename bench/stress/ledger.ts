// What the stress suite knows for certain about each key: what was
// acknowledged (created, renamed, revoked, deleted), by whom, and the token —
// held in memory only, never written anywhere. Each actor only changes its own
// keys (its own user's, revoked through the admin), so its ledger is exact.

export type KeyState = 'active' | 'revoked' | 'deleted';

export interface LedgerKey {
  id: string;
  owner: string;
  token: string;
  description: string;
  state: KeyState;
  /** Keys the actor must never change (the token it authenticates with). */
  pinned?: boolean;
}

/** A tally of checks and of the ones that failed, with the first few failures in words. */
export class Tally {
  checked = 0;
  failures = 0;
  readonly samples: string[] = [];

  check(ok: boolean, what: () => string): boolean {
    this.checked++;
    if (!ok) {
      this.failures++;
      if (this.samples.length < 20) this.samples.push(what());
    }
    return ok;
  }

  fail(what: string): void {
    this.check(false, () => what);
  }

  add(other: { checked: number; failures: number; samples: string[] }): void {
    this.checked += other.checked;
    this.failures += other.failures;
    for (const s of other.samples) if (this.samples.length < 20) this.samples.push(s);
  }
}

export class Ledger {
  readonly keys = new Map<string, LedgerKey>();

  add(k: LedgerKey): void {
    this.keys.set(k.id, k);
  }

  of(owner: string, state?: KeyState): LedgerKey[] {
    return [...this.keys.values()].filter((k) => k.owner === owner && (state === undefined || k.state === state));
  }

  /** A random key of `owner` in one of `states`, not pinned; undefined when there is none. */
  pick(owner: string, states: KeyState[], rand: () => number): LedgerKey | undefined {
    const xs = this.of(owner).filter((k) => !k.pinned && states.includes(k.state));
    return xs.length ? xs[Math.floor(rand() * xs.length)] : undefined;
  }
}

/** A small seeded generator (mulberry32), so a failing run can be repeated with its seed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const TOKEN_TEXT = /kw_[0-9a-f]{24}_[a-z2-7]{32}[0-9a-f]{8}/;
