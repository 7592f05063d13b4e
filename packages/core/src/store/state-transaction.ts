// The boundary's reads and transaction over a TenantState held in memory,
// shared by every adapter that holds one (memory, JSON). A transaction reads
// the state as it was before its own writes and collects those writes as
// StoreOps (deep copies, so the caller's objects never alias stored ones)
// and its events; the adapter commits both together.

import type { ApiKey, KeywardEvent, Tenant, User } from '../domain.js';
import type { FoundPage, KeyFind, StoreReads, Transaction } from './boundary.js';
import type { LastUsedSource, StoreOp, TenantReads } from './tenant-state.js';

/** Reads answered from a state; `state()` is asked afresh on every call (another process may have written). */
export abstract class StateReads implements StoreReads {
  protected abstract state(): TenantReads;
  /** Last use per key, for the `lastUsed` order. */
  protected abstract lastUsedSource(): LastUsedSource | undefined;

  async tenant(): Promise<Tenant | undefined> {
    return this.state().tenant;
  }
  async getUser(id: string): Promise<User | undefined> {
    return this.state().getUser(id);
  }
  async listUsers(): Promise<User[]> {
    return this.state().listUsers();
  }
  async getKey(id: string): Promise<ApiKey | undefined> {
    return this.state().getKey(id);
  }
  async keysByIdPrefix(prefix: string, limit: number): Promise<ApiKey[]> {
    return this.state().keysByIdPrefix(prefix, limit);
  }
  async keysOf(owner: string): Promise<ApiKey[]> {
    return this.state().keysOf(owner);
  }
  async countActiveKeys(owner: string, now: number): Promise<number> {
    return this.state().countActiveKeys(owner, now);
  }
  async findKeys(q: KeyFind): Promise<FoundPage<ApiKey>> {
    return this.state().findKeys(q, this.lastUsedSource());
  }
}

export class StateTransaction extends StateReads implements Transaction {
  readonly ops: StoreOp[] = [];
  readonly events: KeywardEvent[] = [];

  constructor(
    private readonly before: TenantReads,
    private readonly usage?: LastUsedSource,
  ) {
    super();
  }

  protected state(): TenantReads {
    return this.before;
  }
  protected lastUsedSource(): LastUsedSource | undefined {
    return this.usage;
  }

  async lockUser(): Promise<void> {
    // Adapters holding the state in memory run one transaction at a time.
  }
  putTenant(t: Tenant): void {
    this.ops.push({ op: 'putTenant', tenant: structuredClone(t) });
  }
  putUser(u: User): void {
    this.ops.push({ op: 'putUser', user: structuredClone(u) });
  }
  deleteUser(id: string): void {
    this.ops.push({ op: 'deleteUser', id });
  }
  putKey(k: ApiKey): void {
    this.ops.push({ op: 'putKey', key: structuredClone(k) });
  }
  deleteKey(id: string): void {
    this.ops.push({ op: 'deleteKey', id });
  }
  emit(e: KeywardEvent): void {
    this.events.push(structuredClone(e));
  }
}
