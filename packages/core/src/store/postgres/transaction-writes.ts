// What a transaction writes, held until its use case returns (reads in the
// transaction see the state before them, and a refusal halfway through has
// nothing to undo), then sent as one statement per writer, events last — and
// the change that announces it, naming whose keys it touched.

import type { ApiKey, KeywardEvent, Tenant, User } from '../../domain.js';
import type { Transaction } from '../boundary.js';
import { changeOf } from '../change-signal.js';
import type { Change } from './changes.js';
import { insertEvents } from './events-table.js';
import { removeKey, writeKeys } from './keys-table.js';
import type { Sql } from './sql.js';
import { writeTenant } from './tenant-table.js';
import { removeUser, writeUser } from './users-table.js';

export type Writer = Pick<Transaction, 'putTenant' | 'putUser' | 'deleteUser' | 'putKey' | 'deleteKey' | 'emit'>;

export class TransactionWrites implements Writer {
  private readonly writes: ((sql: Sql) => Promise<void>)[] = [];
  private readonly events: KeywardEvent[] = [];
  private readonly keyIds = new Set<string>();
  private readonly userIds = new Set<string>();
  /** Owners of the keys the transaction read, and of those it put, so the change can say whose keys it touched. */
  private readonly ownerOf = new Map<string, string>();
  private readonly putOwnerOf = new Map<string, string>();
  /** Ids the transaction found no key under. */
  private readonly absent = new Set<string>();
  /** Each key put and not deleted after, as last put. */
  readonly keysPut = new Map<string, ApiKey>();
  private tenant = false;
  private deletes = 0;
  private pending?: (sql: Sql) => Promise<void>;
  private pendingKeys = new Map<string, ApiKey>();

  /** Remembers what a read of one key found (its owner, or no key), and hands it back. */
  readKey(id: string, k: ApiKey | undefined): ApiKey | undefined {
    if (!k) this.absent.add(id);
    return this.read([k])[0];
  }

  /** Remembers the owners of keys read, and hands them back. */
  read<K extends ApiKey | undefined>(keys: K[]): K[] {
    for (const k of keys) if (k) this.ownerOf.set(k.id, k.owner);
    return keys;
  }

  putTenant(t: Tenant): void {
    this.tenant = true;
    this.writes.push((s) => writeTenant(s, t));
  }

  putUser(u: User): void {
    this.userIds.add(u.id);
    this.writes.push((s) => writeUser(s, u));
  }

  deleteUser(id: string): void {
    this.userIds.add(id);
    this.deletes++;
    this.writes.push((s) => removeUser(s, id));
  }

  putKey(k: ApiKey): void {
    this.keyIds.add(k.id);
    this.putOwnerOf.set(k.id, k.owner);
    this.keysPut.set(k.id, k);
    // Keys put one after another go in one statement (the same key twice cannot share one upsert).
    const last = this.writes[this.writes.length - 1];
    if (this.pending !== undefined && last === this.pending && !this.pendingKeys.has(k.id)) this.pendingKeys.set(k.id, k);
    else {
      const batch = new Map([[k.id, k]]);
      this.pendingKeys = batch;
      this.pending = (s) => writeKeys(s, [...batch.values()]);
      this.writes.push(this.pending);
    }
  }

  deleteKey(id: string): void {
    this.keyIds.add(id);
    this.keysPut.delete(id);
    this.deletes++;
    this.writes.push((s) => removeKey(s, id));
  }

  emit(e: KeywardEvent): void {
    this.events.push(e);
  }

  /** The writes as functions of their own, for a transaction put together by spreading objects (store.ts transactOnce). */
  get writer(): Writer {
    return {
      putTenant: (t) => this.putTenant(t),
      putUser: (u) => this.putUser(u),
      deleteUser: (id) => this.deleteUser(id),
      putKey: (k) => this.putKey(k),
      deleteKey: (id) => this.deleteKey(id),
      emit: (e) => this.emit(e),
    };
  }

  get none(): boolean {
    return this.writes.length === 0 && this.events.length === 0;
  }

  /** True when all it writes is keys put and events: no tenant, user or deletion. */
  get onlyKeysPut(): boolean {
    return !this.tenant && this.userIds.size === 0 && this.deletes === 0;
  }

  /** The events emitted, in order. */
  get emitted(): readonly KeywardEvent[] {
    return this.events;
  }

  /** Sends every write, in order, then the events; the change that says what they touched. */
  send(c: Sql, send: (statement: Promise<unknown>) => void): Change {
    for (const w of this.writes) send(w(c));
    send(insertEvents(c, this.events));
    return this.change();
  }

  /** The change that says what the writes touched. */
  change(): Change {
    const change: Change = changeOf({ tenant: this.tenant, userIds: [...this.userIds], keyIds: [...this.keyIds] });
    const owners = keyOwners(this.keyIds, this.ownerOf, this.putOwnerOf);
    if (owners) change.keyOwners = owners;
    // Read as absent (under the lock, or checked under it: expectations.ts) and written: new keys, and all this change did to keys.
    if (this.keyIds.size > 0 && [...this.keyIds].every((id) => this.absent.has(id) && this.keysPut.has(id))) change.made = [...this.keysPut.values()];
    return change;
  }
}

/**
 * Whose keys a transaction touched: each key's owner as the transaction read
 * it (before) and as it wrote it (after) — a key deleted is read first, as
 * every use case does. Undefined when a key's owner is unknown: then the
 * change may concern anyone's keys.
 */
function keyOwners(keyIds: ReadonlySet<string>, before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): string[] | undefined {
  if (keyIds.size === 0) return undefined;
  const owners = new Set<string>();
  for (const id of keyIds) {
    const was = before.get(id);
    const is = after.get(id);
    if (was === undefined && is === undefined) return undefined;
    if (was !== undefined) owners.add(was);
    if (is !== undefined) owners.add(is);
  }
  return [...owners];
}
