// One tenant's records held in memory — tenant, users, keys — and the
// answers the store boundary asks of them: get, find with filters, sort
// orders, keyset cursors and offsets, count an owner's active keys.
//
// Every adapter that keeps the tenant in memory uses this: the memory store,
// and the JSON journal store, which replays its journal into it. That is why
// a transaction's writes are plain JSON operations (`StoreOp`): the memory
// store applies them at commit; the journal store writes them as one journal
// record, applies them, and other processes apply the same record when they
// read the journal's tail. Nothing here does I/O.

import { type ApiKey, type StoreDocument, type Tenant, type User, activeUntil, statusOf } from '../domain.js';
import { printable } from '../duration.js';
import { refuse } from '../refusal.js';
import type { FoundPage, KeyFind, KeyOrder } from './boundary.js';
import { Properties } from './json/json-in-slices.js';

/** One write of a transaction, as a journal record carries it. */
export type StoreOp =
  | { op: 'putTenant'; tenant: Tenant }
  | { op: 'putUser'; user: User }
  | { op: 'deleteUser'; id: string }
  | { op: 'putKey'; key: ApiKey }
  | { op: 'deleteKey'; id: string };

/** Which records a list of operations touched (for StoreChange). */
export interface Touched {
  tenant: boolean;
  userIds: string[];
  keyIds: string[];
}

/** Last use per key, for the `lastUsed` order; `version` changes whenever an answer may. */
export interface LastUsedSource {
  version: number;
  lastUsed(keyId: string): number | undefined;
}

interface Memo {
  /** keyChanges (a list of every owner's keys) or the owner's last change (one owner's) when it was made. */
  generation: number;
  usageVersion: number;
  second: number;
  signature: string;
  rows: ApiKey[];
  position?: Map<string, number>;
}

/** What a transaction reads of the state (StateTransaction): the state itself, or a commit group's view of it (staged-state.ts). */
export type TenantReads = Pick<TenantState, 'tenant' | 'getUser' | 'listUsers' | 'getKey' | 'keysByIdPrefix' | 'keysOf' | 'countActiveKeys' | 'findKeys'>;

/** Rows of sorted lists kept at once, all memos together (one per query signature: a busy server's lists are mostly one per user); past it they start over. */
const MAX_MEMO_ROWS = 200_000;

export class TenantState {
  tenant?: Tenant;
  readonly users = new Map<string, User>();
  readonly keys = new Map<string, ApiKey>();
  // Key ids per owner, each with the time it is active until (its expiry, or
  // -Infinity once revoked): countActiveKeys (asked by every GET /users/me) and
  // keysOf cost O(keys of the owner), and parse no dates.
  private readonly byOwner = new Map<string, Map<string, number>>();
  // Bumped by every apply(); the sorted ids belong to one generation.
  private generation = 0;
  private sortedIds?: { generation: number; ids: string[] };
  // Counts changes to keys; each owner's entry is the count at the last
  // change to that owner's keys. A list of one owner's keys (every
  // non-admin's) is memoised until that owner's keys change, not anyone's:
  // a busy server's creates would otherwise sort every list again.
  private keyChanges = 0;
  private readonly ownerChanged = new Map<string, number>();
  // Sorted lists per query signature, MAX_MEMO_ROWS rows in all.
  private memos = new Map<string, Memo>();
  private memoRows = 0;

  /** The state of a whole document (a snapshot, or a store of the first format). */
  static fromDocument(doc: StoreDocument): TenantState {
    const s = new TenantState();
    s.tenant = doc.tenant;
    for (const id in doc.users) s.users.set(id, doc.users[id]);
    for (const id in doc.keys) s.putKey(doc.keys[id]);
    return s;
  }

  /** A copy to apply more writes to, leaving this one as it is (records are shared: they are never changed in place). */
  copy(): TenantState {
    const s = new TenantState();
    s.tenant = this.tenant;
    for (const [id, u] of this.users) s.users.set(id, u);
    for (const k of this.keys.values()) s.putKey(k);
    return s;
  }

  /**
   * The document as a snapshot writes it (json-in-slices.ts writes Properties
   * as an object): what the maps hold, taken at once, so later changes do not
   * show in it; the records themselves are never changed in place, only replaced.
   */
  toSnapshot(): { version: 1; tenant: Tenant; users: Properties; keys: Properties } {
    if (!this.tenant) throw new Error('no tenant to write');
    return { version: 1, tenant: this.tenant, users: Properties.of(this.users), keys: Properties.of(this.keys) };
  }

  /** Applies a transaction's writes in order. The objects are kept as given: callers hand over copies. */
  apply(ops: readonly StoreOp[]): Touched {
    const touched: Touched = { tenant: false, userIds: [], keyIds: [] };
    for (const o of ops) {
      switch (o.op) {
        case 'putTenant':
          this.tenant = o.tenant;
          touched.tenant = true;
          break;
        case 'putUser':
          this.users.set(o.user.id, o.user);
          touched.userIds.push(o.user.id);
          break;
        case 'deleteUser':
          this.users.delete(o.id);
          touched.userIds.push(o.id);
          break;
        case 'putKey':
          this.putKey(o.key);
          touched.keyIds.push(o.key.id);
          break;
        case 'deleteKey':
          this.deleteKey(o.id);
          touched.keyIds.push(o.id);
          break;
      }
    }
    if (ops.length > 0) this.generation++;
    return touched;
  }

  private keysChangedOf(owner: string): void {
    this.ownerChanged.set(owner, ++this.keyChanges);
  }

  private putKey(k: ApiKey): void {
    const before = this.keys.get(k.id);
    if (before) this.keysChangedOf(before.owner);
    this.keysChangedOf(k.owner);
    if (before && before.owner !== k.owner) this.byOwner.get(before.owner)?.delete(k.id);
    this.keys.set(k.id, k);
    let mine = this.byOwner.get(k.owner);
    if (!mine) this.byOwner.set(k.owner, (mine = new Map()));
    mine.set(k.id, activeUntil(Boolean(k.revokedAt), Date.parse(k.expiry)));
  }

  private deleteKey(id: string): void {
    const k = this.keys.get(id);
    if (!k) return;
    this.keysChangedOf(k.owner);
    this.keys.delete(id);
    const mine = this.byOwner.get(k.owner);
    mine?.delete(id);
    if (mine?.size === 0) this.byOwner.delete(k.owner);
  }

  getKey(id: string): ApiKey | undefined {
    return this.keys.get(id);
  }

  getUser(id: string): User | undefined {
    return this.users.get(id);
  }

  listUsers(): User[] {
    return usersInOrder(this.users.values());
  }

  keysOf(owner: string): ApiKey[] {
    return [...(this.byOwner.get(owner)?.keys() ?? [])].map((id) => this.keys.get(id)!);
  }

  countActiveKeys(owner: string, now: number): number {
    let n = 0;
    const mine = this.byOwner.get(owner);
    if (mine !== undefined) for (const activeUntil of mine.values()) if (activeUntil > now) n++;
    return n;
  }

  keysByIdPrefix(prefix: string, limit: number): ApiKey[] {
    if (this.sortedIds?.generation !== this.generation) this.sortedIds = { generation: this.generation, ids: [...this.keys.keys()].sort() };
    const ids = this.sortedIds.ids;
    let lo = 0;
    let hi = ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ids[mid] < prefix) lo = mid + 1;
      else hi = mid;
    }
    const out: ApiKey[] = [];
    for (let i = lo; i < ids.length && out.length < limit && ids[i].startsWith(prefix); i++) out.push(this.keys.get(ids[i])!);
    return out;
  }

  /**
   * One page of keys. The sorted, filtered list is memoised per query, so
   * moving through a 100 000-key list costs a slice, not a sort, per page.
   */
  findKeys(q: KeyFind, usage?: LastUsedSource): FoundPage<ApiKey> {
    if (q.startingAfter !== undefined && q.endingBefore !== undefined) refuse('INVALID_INPUT', 'Use startingAfter or endingBefore, not both.');
    const order: KeyOrder = q.order ?? 'created';
    const memo = this.sorted(q, order, usage);
    const rows = memo.rows;
    const limit = Math.max(0, q.limit);
    let start: number;
    let end: number;
    if (q.startingAfter !== undefined) {
      start = this.positionOf(q.startingAfter, memo, q, order, usage, true);
      end = start + limit;
    } else if (q.endingBefore !== undefined) {
      end = this.positionOf(q.endingBefore, memo, q, order, usage, false);
      start = Math.max(0, end - limit);
    } else {
      if (q.offset !== undefined && (!Number.isInteger(q.offset) || q.offset < 0)) refuse('INVALID_INPUT', 'The offset must be a whole number of 0 or more.');
      start = q.offset ?? 0;
      end = start + limit;
    }
    const data = rows.slice(start, end);
    return { data, total: rows.length, hasPrev: start > 0 && rows.length > 0, hasNext: Math.min(end, rows.length) < rows.length };
  }

  /**
   * Where a cursor sits: just after (or before) the key it names. A key that
   * left the list meanwhile (revoked while paging active keys) is placed by
   * its sort value — a true keyset cursor; an id that names no key is refused.
   */
  private positionOf(id: string, m: Memo, q: KeyFind, order: KeyOrder, usage: LastUsedSource | undefined, after: boolean): number {
    const rows = m.rows;
    if (!m.position) m.position = new Map(rows.map((k, i) => [k.id, i]));
    const i = m.position.get(id);
    if (i !== undefined) return after ? i + 1 : i;
    const key = this.keys.get(id);
    if (!key) refuse('INVALID_INPUT', `The cursor "${printable(id)}" is not in this list.`);
    const compare = comparator(order, q.descending === true, q.now, usage);
    let lo = 0;
    let hi = rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compare(rows[mid], key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private sorted(q: KeyFind, order: KeyOrder, usage: LastUsedSource | undefined): Memo {
    const search = q.search?.trim().toLowerCase() ?? '';
    const signature = JSON.stringify([q.status ?? '', order, q.descending === true, search, q.owner ?? '', q.createdBy ?? '']);
    // Statuses change as keys expire, so a memo that filters or sorts by
    // status lasts at most one second; other orders do not change with time.
    const second = q.status || order === 'status' ? Math.floor(q.now / 1000) : 0;
    const usageVersion = order === 'lastUsed' ? (usage?.version ?? 0) : 0;
    const generation = q.owner !== undefined ? (this.ownerChanged.get(q.owner) ?? 0) : this.keyChanges;
    const m = this.memos.get(signature);
    if (m && m.generation === generation && m.second === second && m.usageVersion === usageVersion) return m;

    const rows: ApiKey[] = [];
    const pool = q.owner !== undefined ? this.keysOf(q.owner) : this.keys.values();
    for (const k of pool) {
      if (q.createdBy !== undefined && k.createdBy !== q.createdBy) continue;
      if (q.status && statusOf(k, q.now) !== q.status) continue;
      if (search && !k.description.toLowerCase().includes(search) && !k.id.includes(search) && !k.owner.toLowerCase().includes(search)) continue;
      rows.push(k);
    }
    rows.sort(comparator(order, q.descending === true, q.now, usage));
    this.memoRows += rows.length - (m?.rows.length ?? 0);
    if (this.memoRows > MAX_MEMO_ROWS) {
      this.memos = new Map();
      this.memoRows = rows.length;
    }
    const made: Memo = { generation, usageVersion, second, signature, rows };
    this.memos.set(signature, made);
    return made;
  }
}

/** Users as lists give them: by id. */
export function usersInOrder(users: Iterable<User>): User[] {
  return [...users].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function sortValue(k: ApiKey, order: KeyOrder, now: number, usage: LastUsedSource | undefined): string | number {
  switch (order) {
    case 'created':
      return k.created;
    case 'description':
      return k.description.toLowerCase();
    case 'status':
      return statusOf(k, now);
    case 'sub':
      return k.owner;
    case 'createdByUser':
      return k.createdBy;
    case 'expiry':
      return Date.parse(k.expiry);
    case 'lastUsed':
      // Never used sorts before any use.
      return usage?.lastUsed(k.id) ?? -1;
  }
}

/** The order of a list: by the field, then newest first, then id, so paging is stable. */
function comparator(order: KeyOrder, descending: boolean, now: number, usage: LastUsedSource | undefined): (a: ApiKey, b: ApiKey) => number {
  const dir = descending ? -1 : 1;
  // A field kept as it sorts is read as it is (a lookup per comparison would
  // cost more than the read); values worked out from it, once per key.
  const values = new Map<ApiKey, string | number>();
  const value =
    order === 'created' || order === 'sub' || order === 'createdByUser'
      ? (k: ApiKey) => sortValue(k, order, now, usage)
      : (k: ApiKey) => {
          let v = values.get(k);
          if (v === undefined) values.set(k, (v = sortValue(k, order, now, usage)));
          return v;
        };
  return (a, b) => {
    const va = value(a);
    const vb = value(b);
    if (va !== vb) return va < vb ? -dir : dir;
    if (a.created !== b.created) return a.created < b.created ? 1 : -1;
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  };
}
