// What this server last saw of the records a create is decided on — the
// tenant (its settings), users, and owners' active counts — however long ago
// and whether or not it was listening then. Never an answer to a read (the
// record cache is that, and keeps only what it may trust): only a guess for
// a transaction on what was seen (expectations.ts), which checks every guess
// in SQL under the owner's lock before it writes. A wrong guess costs a
// round trip and the create runs the locking way; it is never a wrong answer.

import type { Tenant, User } from '../../domain.js';
import type { StoreChange } from '../boundary.js';

// Users and owners remembered at once; past this many, they start over.
const MAX_REMEMBERED = 10_000;

/** An owner's active count as seen: `n` at `at`; `changes`, the mark of the owner's keys (keys-table.ts CHANGE_MARK) of the same snapshot. */
export interface SeenCount {
  n: number;
  at: number;
  changes?: number;
}

export class LastSeen {
  tenant?: { value: Tenant | undefined };
  readonly users = new Map<string, User | undefined>();
  /** Each owner's active count, the time it was counted at, and the mark of the owner's keys it was counted at (keys-table.ts CHANGE_MARK), where known. */
  readonly active = new Map<string, SeenCount>();

  sawTenant(t: Tenant | undefined): Tenant | undefined {
    this.tenant = { value: t };
    return t;
  }

  sawUser(id: string, u: User | undefined): User | undefined {
    if (this.users.size >= MAX_REMEMBERED) this.users.clear();
    this.users.set(id, u);
    return u;
  }

  sawActive(owner: string, n: number, at: number, changes?: number): number {
    if (this.active.size >= MAX_REMEMBERED) this.active.clear();
    this.active.set(owner, { n, at, changes });
    return n;
  }

  /** Forgets what a transaction was decided on and found changed: each is read again next time. */
  forget(guessed: { tenant?: unknown; users: ReadonlyMap<string, unknown>; counts: ReadonlyMap<string, unknown> }): void {
    if (guessed.tenant) this.tenant = undefined;
    for (const id of guessed.users.keys()) this.users.delete(id);
    for (const owner of guessed.counts.keys()) this.active.delete(owner);
  }

  /**
   * Forgets what a change made wrong, so the next guess is read again rather
   * than checked and found wrong. Not needed for correctness (every guess is
   * checked), only to waste fewer round trips.
   */
  changed(c: Omit<StoreChange, 'version'>): void {
    if (c.all || c.tenant) this.tenant = undefined;
    if (c.all) this.users.clear();
    for (const id of c.userIds ?? []) this.users.delete(id);
    if (c.all || (c.keyIds?.length && c.keyOwners === undefined)) this.active.clear();
    else for (const owner of c.keyOwners ?? []) this.active.delete(owner);
  }
}
