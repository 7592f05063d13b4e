// A commit group's view of the tenant (json/journal.ts commitGroup): the
// state as committed, with the writes of the group's transactions decided so
// far laid over it. Only the group's own later transactions read it (a create
// batched behind others counts their keys against the limit); every other
// read answers from the committed state, which takes the group's writes only
// once its journal record is durable — a group refused for a full disk was
// never seen, and leaves the state exactly as it was.
//
// The reads the use cases' transactions ask (tenant, a user, the users, a
// key, an owner's keys and active count) are answered from the overlay, in
// O(writes staged for that record or owner) beyond the committed state's own
// answer; prefixes and pages, which no transaction asks today, from a copy of
// the state with the writes applied, made once per staged write at most.

import { type ApiKey, type Tenant, type User, activeUntil } from '../domain.js';
import type { FoundPage, KeyFind } from './boundary.js';
import { type LastUsedSource, type StoreOp, type TenantReads, TenantState, usersInOrder } from './tenant-state.js';

export class StagedState implements TenantReads {
  private readonly ops: StoreOp[] = [];
  private stagedTenant?: Tenant;
  /** Records written by the group: the new record, or null once deleted. */
  private readonly users = new Map<string, User | null>();
  private readonly keys = new Map<string, ApiKey | null>();
  /** Per owner, the ids of staged keys it owned before the group or owns in it (what its count must look at again). */
  private readonly keysTouchedOf = new Map<string, Set<string>>();
  private applied?: TenantState;

  constructor(private readonly committed: TenantState) {}

  /** Lays a transaction's writes over the view (the objects are kept as given, as TenantState.apply does). */
  stage(ops: readonly StoreOp[]): void {
    for (const o of ops) {
      switch (o.op) {
        case 'putTenant':
          this.stagedTenant = o.tenant;
          break;
        case 'putUser':
          this.users.set(o.user.id, o.user);
          break;
        case 'deleteUser':
          this.users.set(o.id, null);
          break;
        case 'putKey':
          this.touchKey(o.key.id);
          this.keys.set(o.key.id, o.key);
          this.touchKey(o.key.id);
          break;
        case 'deleteKey':
          this.touchKey(o.id);
          this.keys.set(o.id, null);
          break;
      }
      this.ops.push(o);
    }
    if (ops.length > 0) this.applied = undefined;
  }

  get tenant(): Tenant | undefined {
    return this.stagedTenant ?? this.committed.tenant;
  }

  getUser(id: string): User | undefined {
    const staged = this.users.get(id);
    return staged === undefined ? this.committed.getUser(id) : (staged ?? undefined);
  }

  getKey(id: string): ApiKey | undefined {
    const staged = this.keys.get(id);
    return staged === undefined ? this.committed.getKey(id) : (staged ?? undefined);
  }

  countActiveKeys(owner: string, now: number): number {
    let n = this.committed.countActiveKeys(owner, now);
    for (const id of this.keysTouchedOf.get(owner) ?? []) {
      const before = this.committed.getKey(id);
      const after = this.getKey(id);
      if (before?.owner === owner && isActive(before, now)) n--;
      if (after?.owner === owner && isActive(after, now)) n++;
    }
    return n;
  }

  listUsers(): User[] {
    if (this.users.size === 0) return this.committed.listUsers();
    const users = new Map(this.committed.users);
    for (const [id, u] of this.users) {
      if (u) users.set(id, u);
      else users.delete(id);
    }
    return usersInOrder(users.values());
  }

  keysOf(owner: string): ApiKey[] {
    const touched = this.keysTouchedOf.get(owner);
    if (!touched) return this.committed.keysOf(owner);
    const out: ApiKey[] = [];
    for (const k of this.committed.keysOf(owner)) {
      const now = this.getKey(k.id);
      if (now?.owner === owner) out.push(now);
    }
    // Keys the group gave this owner.
    for (const id of touched) {
      const k = this.keys.get(id);
      if (k?.owner === owner && this.committed.getKey(id)?.owner !== owner) out.push(k);
    }
    return out;
  }

  keysByIdPrefix(prefix: string, limit: number): ApiKey[] {
    return this.withWrites().keysByIdPrefix(prefix, limit);
  }

  findKeys(q: KeyFind, usage?: LastUsedSource): FoundPage<ApiKey> {
    return this.withWrites().findKeys(q, usage);
  }

  /** The key's owner (as staged so far, else as committed) gets its id among those its count looks at again. */
  private touchKey(id: string): void {
    const owner = this.getKey(id)?.owner;
    if (owner === undefined) return;
    let ids = this.keysTouchedOf.get(owner);
    if (!ids) this.keysTouchedOf.set(owner, (ids = new Set()));
    ids.add(id);
  }

  private withWrites(): TenantState {
    if (this.ops.length === 0) return this.committed;
    if (!this.applied) {
      this.applied = this.committed.copy();
      this.applied.apply(this.ops);
    }
    return this.applied;
  }
}

function isActive(k: ApiKey, now: number): boolean {
  return activeUntil(Boolean(k.revokedAt), Date.parse(k.expiry)) > now;
}
