// A transaction decided on what this server last saw, sent whole in one
// round trip. A create is usually decided on values the server has seen
// before — the tenant's settings, the actor, the owner's active count — so
// it need not ask for them inside the transaction and wait for the answer
// before it writes. Its reads are answered from what was last seen
// (last-seen.ts; read from the pool when nothing was), and each answer is
// kept as an expectation. The transaction then goes out as one statement
// with one answer:
// the locks the locking reads would take (the tenant FOR SHARE, each user
// read or counted FOR UPDATE — an owner's row before the count, as
// store.ts's lockingReads), one check of every expectation against the
// database as it is once those locks are held, the new keys and their
// events, committed; then the notification that announces them, in a
// transaction of its own (put_counted_keys_and_announce, migrations 9, 10 and 12). If any
// expectation no longer holds, the check refuses (still_as_seen, migration
// 4), nothing is written, and the store runs the use case again the locking
// way, which gives the answer — a refusal included — on what the locks hold.
//
// The rules stay in core: the SQL decides nothing, it only says whether each
// value core decided on is still the value in the database. Keys are not
// remembered here: a key read is taken as absent (the fresh ids a create
// checks), so a use case that reads an existing key always runs the locking
// way, as does one that lists users or keys.

import type { ApiKey, KeywardEvent, Tenant, User } from '../../domain.js';
import type { FoundPage, StoreReads, Transaction } from '../boundary.js';
import type { LastSeen, SeenCount } from './last-seen.js';
import { SCHEMA, type Sql } from './sql.js';
import type { TransactionWrites } from './transaction-writes.js';

/** Thrown by a read that cannot be answered from what was seen: the use case runs the locking way. */
export class NotSeen extends Error {}

/** The values a transaction was decided on, and the rows whose locks make them hold until commit. */
export class Expectations {
  tenant?: { value: Tenant | undefined };
  readonly users = new Map<string, User | undefined>();
  /**
   * Each owner's active count as answered, with the time it was decided at;
   * `seen`, where known, the mark of the owner's keys that count was seen
   * with and when it was counted (keys-table.ts CHANGE_MARK): then the check
   * asks whether the keys changed or one expired since, instead of counting them.
   */
  readonly counts = new Map<string, { n: number; at: number; seen?: { changes: number; at: number } }>();
  /** Key ids answered as absent. */
  readonly absentKeys = new Set<string>();
  /** Users whose rows are locked, in the order they were first read, counted or locked. */
  readonly locked: string[] = [];

  lock(id: string): void {
    if (!this.locked.includes(id)) this.locked.push(id);
  }
}

/**
 * A transaction decided on what was seen: its writes held in `writes`, its
 * reads answered from what was seen (or, for what was not, from `pool`),
 * each kept in `expected`. An owner's count is taken first from `kept` (the
 * record cache's count with its mark, where it keeps one): after another
 * server's create for the owner, what was seen here is forgotten, while the
 * cache adds the new key to its count and mark — so the check compares the
 * mark rather than counting the owner's keys again — and the cache hears
 * every change, where what was seen after this server's own create may miss
 * one whose notification came before that create's answer. A key read is
 * taken as absent (the fresh ids a create checks).
 * A class rather than an object of closures: one is made for every create,
 * and its methods are made once (under tsx, which the benchmarks run, each
 * closure of an object literal is also given its name by a defineProperty).
 */
export class TransactionOnWhatWasSeen implements Transaction {
  constructor(
    private readonly seen: LastSeen,
    private readonly pool: StoreReads,
    readonly expected: Expectations,
    readonly writes: TransactionWrites,
    private readonly kept: (owner: string, now: number) => SeenCount | undefined = nothingKept,
  ) {}

  async tenant(): Promise<Tenant | undefined> {
    const value = this.seen.tenant ? this.seen.tenant.value : await this.pool.tenant();
    this.expected.tenant = { value };
    return value;
  }

  async getUser(id: string): Promise<User | undefined> {
    const value = this.seen.users.has(id) ? this.seen.users.get(id) : await this.pool.getUser(id);
    this.expected.lock(id);
    this.expected.users.set(id, value);
    return value;
  }

  async countActiveKeys(owner: string, now: number): Promise<number> {
    const known = this.kept(owner, now) ?? this.seen.active.get(owner);
    const n = known?.n ?? (await this.pool.countActiveKeys(owner, now));
    // What was seen with that count (the pool's read above may have just seen it): any count seen with
    // a change count is of one snapshot, so while that is still the change count, this count holds.
    const was = known ?? this.seen.active.get(owner);
    this.expected.lock(owner);
    this.expected.counts.set(owner, { n, at: now, seen: was?.n === n && was.changes !== undefined ? { changes: was.changes, at: was.at } : undefined });
    return n;
  }

  async lockUser(id: string): Promise<void> {
    this.expected.lock(id);
  }

  async getKey(id: string): Promise<ApiKey | undefined> {
    this.expected.absentKeys.add(id);
    return this.writes.readKey(id, undefined);
  }

  listUsers(): Promise<User[]> {
    return notSeen();
  }
  keysByIdPrefix(): Promise<ApiKey[]> {
    return notSeen();
  }
  keysOf(): Promise<ApiKey[]> {
    return notSeen();
  }
  findKeys(): Promise<FoundPage<ApiKey>> {
    return notSeen();
  }

  putTenant(t: Tenant): void {
    this.writes.putTenant(t);
  }
  putUser(u: User): void {
    this.writes.putUser(u);
  }
  deleteUser(id: string): void {
    this.writes.deleteUser(id);
  }
  putKey(k: ApiKey): void {
    this.writes.putKey(k);
  }
  deleteKey(id: string): void {
    this.writes.deleteKey(id);
  }
  emit(e: KeywardEvent): void {
    this.writes.emit(e);
  }
}

const nothingKept = (): undefined => undefined;
const notSeen = (): Promise<never> => Promise.reject(new NotSeen());

// The whole transaction and its notification as one statement (migration 9): CALLed alone,
// outside BEGIN … COMMIT, it commits the key's transaction, then sends the NOTIFY — one
// Bind/Execute/Sync, one answer.
const PUT_COUNTED_KEYS_AND_ANNOUNCE = `CALL ${SCHEMA}.put_counted_keys_and_announce(${Array.from({ length: 15 }, (_, i) => `$${i + 1}`).join(', ')})`;

/**
 * Sends the transaction decided on `expected`: the locks the locking reads
 * would take, the check of every expectation once they are held, then `keys`
 * and `events` written (each row's columns taken from its record) and
 * counted, and committed, then `payload` (changes.ts notificationOf: a
 * counted change's) sent on `channel` in a transaction of its own. Answered,
 * both committed. Refused with CHANGED_SINCE_SEEN, nothing was written;
 * refused otherwise, the key's transaction may have committed before the
 * refusal came (the NOTIFY's own commit refused).
 */
export function putCountedKeysAndAnnounce(c: Sql, expected: Expectations, keys: readonly ApiKey[], events: readonly KeywardEvent[], channel: string, payload: string): Promise<unknown> {
  const users = [...expected.users];
  const counts = [...expected.counts];
  return c.query(PUT_COUNTED_KEYS_AND_ANNOUNCE, [
    expected.tenant !== undefined,
    json(expected.tenant?.value),
    expected.locked,
    users.map(([id]) => id),
    JSON.stringify(users.map(([, u]) => u ?? null)),
    counts.map(([owner]) => owner),
    counts.map(([, c]) => isoTime(c.at)),
    counts.map(([, c]) => c.n),
    counts.map(([, c]) => c.seen?.changes ?? null),
    counts.map(([, c]) => (c.seen === undefined ? null : isoTime(c.seen.at))),
    [...expected.absentKeys],
    JSON.stringify(keys),
    JSON.stringify(events),
    channel,
    payload,
  ]);
}

/** SQLSTATE of still_as_seen's refusal: an expectation no longer held, nothing was written. */
export const CHANGED_SINCE_SEEN = 'KW001';

const json = (v: object | undefined): string | null => (v === undefined ? null : JSON.stringify(v));
// A time as the timestamptz[] parameters take it: the same instant as a Date
// would send, without node-postgres' local-time formatting of each Date.
const isoTime = (ms: number): string => new Date(ms).toISOString();
