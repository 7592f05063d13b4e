// The storage boundary, version 2 (docs: ../shared/DESIGN.md "store").
//
// It is shaped by the questions the use cases ask, not by a document: get one
// record, find keys with keyset cursors, count an owner's active keys, change
// single records in a transaction that locks what it checks, record usage as
// aggregates, find events by filter with cursors, drop what is past
// retention, and say when anything changed. A database can answer every one
// of these without diffing documents, and an embedded store can make every
// write O(1): one journal record per transaction.
//
// Adapters: memory (tests), JSON journal + lowdb snapshot (the embedded
// default), PostgreSQL. One conformance suite runs against all of them.

import type { ApiKey, EventType, KeyStatus, KeywardEvent, Tenant, User } from '../domain.js';

export type KeyOrder = 'created' | 'description' | 'status' | 'sub' | 'createdByUser' | 'expiry' | 'lastUsed';

/** A question about keys. Times are epoch milliseconds. */
export interface KeyFind {
  /** Derived at `now`: revoked wins over expired (statusOf). */
  status?: KeyStatus;
  owner?: string;
  createdBy?: string;
  /** Case-insensitive substring of description, id or owner. */
  search?: string;
  order?: KeyOrder;
  descending?: boolean;
  limit: number;
  /** Keyset cursors: a key id of the previous answer. Not both. */
  startingAfter?: string;
  endingBefore?: string;
  /** Position in the result, for windowed lists that jump (the terminal UI). */
  offset?: number;
  now: number;
}

export interface FoundPage<T> {
  data: T[];
  /** Every row matching, all pages together (for windowed lists and "N keys"). */
  total: number;
  /** Whether rows exist beyond each end of this page. */
  hasNext: boolean;
  hasPrev: boolean;
}

/** A question about events, newest first. */
export interface EventFind {
  types?: readonly EventType[];
  /** Leave these types out (the Events screen's "hide usage"). */
  excludeTypes?: readonly EventType[];
  keyId?: string;
  userId?: string;
  since?: number;
  until?: number;
  limit: number;
  startingAfter?: string;
  endingBefore?: string;
  /**
   * With no cursor, the page at the oldest end instead of the newest (still
   * newest first, as every page; its endingBefore pages walk on towards the
   * newest): how a whole history is read once, oldest first (all-events.ts).
   * A cursor decides where a page is: then this changes nothing.
   */
  oldestFirst?: boolean;
}

export interface EventPage {
  data: KeywardEvent[];
  hasNext: boolean;
  hasPrev: boolean;
  /** Every event matching, all pages together — only when the store can count without reading more than the page (memory). */
  total?: number;
}

/** One key's uses in one minute, as one server counted them (adapters add them up). */
export interface UsageCount {
  keyId: string;
  /** Epoch minute: Math.floor(ms / 60_000). */
  minute: number;
  uses: number;
  /** Epoch ms of the last use counted. */
  lastUsed: number;
  /** Client addresses seen in this batch with the epoch ms each was last seen. */
  addresses?: { address: string; lastSeen: number }[];
}

/**
 * A usage flush's name: the flushing process (random, one per usage
 * pipeline) and its flush's number. Numbers grow; one flush is sent again
 * only until it is answered, before any later one, so a store may forget
 * a process's flushes numbered below the one it is sent.
 */
export interface FlushId {
  by: string;
  seq: number;
}

export interface KeyUsage {
  keyId: string;
  uses: number;
  /** Epoch ms, or undefined when never used. */
  lastUsed?: number;
  /** Newest first, at most 5 distinct addresses. */
  lastUsedFrom: { address: string; lastSeen: number }[];
}

/**
 * What changed, for caches: the records named when the store knows which;
 * `all` when it does not (another process wrote). A change naming no record
 * added only events or usage.
 */
export interface StoreChange {
  version: number;
  keyIds?: readonly string[];
  /**
   * The owners of the keys named, before and after, when the store knows
   * them all (PostgreSQL): a cache of per-owner answers (active counts) drops
   * only theirs. Absent, the keys may be anyone's.
   */
  keyOwners?: readonly string[];
  /**
   * The keys the change made (ids no key had), as written, when the store
   * knows them (PostgreSQL): a cache may add them to what it holds instead
   * of asking again (postgres/made-keys.ts). Only beside keyIds, which name them.
   */
  made?: readonly ApiKey[];
  userIds?: readonly string[];
  tenant?: boolean;
  /**
   * A usage flush: the keys whose last use (or newest addresses) it wrote,
   * when the store names them (PostgreSQL), so a cache of last uses drops
   * only theirs. A change that names no record and not this either may have
   * changed any key's usage.
   */
  usedKeyIds?: readonly string[];
  /**
   * Beside usedKeyIds, in its order, when the store says it (PostgreSQL):
   * what the flush wrote of each key's last use, so a cache that keeps one
   * can merge it in (the store's answer is the newest use and the newest
   * sighting of each address over every flush) instead of reading it again.
   */
  lastUsesWritten?: readonly LastUseWritten[];
  all?: boolean;
}

/** What a usage flush wrote of one key's last use: its newest use in the flush, and the newest sighting of each address. */
export interface LastUseWritten {
  lastUsed: number;
  addresses: { address: string; lastSeen: number }[];
}

/**
 * `hint`: the answer only says what the request path shows (whoami: may the
 * user generate, may an admin remove themselves), and the rule it feeds is
 * checked again in the transaction that acts on it (the key limit in
 * createKey, the last-admin rule in users.ts), so a store that follows other
 * processes may answer from a view up to its poll interval old. Without it,
 * the answer holds every change acknowledged before it was asked.
 */
export interface ReadOptions {
  hint?: boolean;
}

/** What both a transaction and the store answer. Reads in a transaction see the state before its own writes. */
export interface StoreReads {
  tenant(): Promise<Tenant | undefined>;
  getUser(id: string): Promise<User | undefined>;
  listUsers(opts?: ReadOptions): Promise<User[]>;
  getKey(id: string): Promise<ApiKey | undefined>;
  /** Keys whose id starts with `prefix` (at most `limit`), for short ids. */
  keysByIdPrefix(prefix: string, limit: number): Promise<ApiKey[]>;
  /** Every key of one owner (delete all, remove a user). */
  keysOf(owner: string): Promise<ApiKey[]>;
  countActiveKeys(owner: string, now: number, opts?: ReadOptions): Promise<number>;
  findKeys(q: KeyFind): Promise<FoundPage<ApiKey>>;
}

export interface Transaction extends StoreReads {
  /**
   * Locks a user's row until commit, so two servers creating keys for the same
   * owner cannot both pass the key limit (PostgreSQL: SELECT … FOR UPDATE).
   * The embedded store already runs one transaction at a time.
   */
  lockUser(id: string): Promise<void>;
  putTenant(t: Tenant): void;
  putUser(u: User): void;
  deleteUser(id: string): void;
  putKey(k: ApiKey): void;
  deleteKey(id: string): void;
  /** Committed with the writes, or not at all. */
  emit(e: KeywardEvent): void;
}

/** How a transaction may run, where a store has more than one way. */
export interface TransactHow {
  /**
   * Its reads may be answered from what the store last saw, each checked at
   * commit under the locks the reads would have taken; if one no longer
   * holds, nothing is written and `fn` runs again the usual way (PostgreSQL:
   * one round trip instead of two, for a create). For use cases whose reads
   * are the tenant, users, active counts and fresh key ids. Stores that run
   * one transaction at a time ignore it.
   */
  onWhatWasSeen?: boolean;
}

export interface InitialState {
  tenant: Tenant;
  users: User[];
  events: KeywardEvent[];
}

/** This process's clock less the store's (ms; positive: this one is ahead), within ± errorMs (clock-offset.ts). */
export interface ClockOffsetReading {
  offsetMs: number;
  errorMs: number;
}

/**
 * What a store can say of its own state now, for a server's metrics
 * (`keyward serve --metrics-port`): numbers only, never a record or a
 * location. Each part is absent where the store has no such thing.
 */
export interface StoreGauges {
  /** The database connections of this process's pool, and the requests waiting for one. */
  connections?: { open: number; idle: number; waiting: number };
  /**
   * The change feed, once it listens: whether this process hears every other
   * server's change now (its caches trusted), when it last knew it had heard
   * all of them (epoch ms; 0 never), and how many changes of others it has heard.
   */
  feed?: { live: boolean; confirmedAt: number; heard: number };
  /**
   * The file system the store's files are on (a JSON store): bytes free to
   * this process, and in all. A full disk refuses every change (ENOSPC,
   * UNAVAILABLE, nothing lost): this is the operator's warning beforehand.
   */
  disk?: { freeBytes: number; totalBytes: number };
  /**
   * This process's clock against the database's, the surest recent reading:
   * where several servers share a store, each decides expiry by its own clock.
   */
  clock?: ClockOffsetReading;
}

export interface Store extends StoreReads {
  /** Where the data lives, for headers and messages (a path, a URL without its password, or "memory"). */
  readonly location: string;
  /**
   * True when the store decides this process's transactions one after
   * another, each on the writes of those before it, even while they commit
   * together (the embedded stores): concurrent creates for one owner then
   * need not wait for each other's commit to be counted against the limit
   * (use-cases/create-batches.ts).
   */
  readonly decidesInTurn?: boolean;

  /** Creates the tenant unless the store has one; true when it created it. */
  create(init: InitialState): Promise<boolean>;
  /**
   * Runs `fn` under the store's lock on fresh state; its writes and events
   * commit together when it returns, durably, before the promise resolves.
   * If it throws, nothing is written and the error propagates. A disk or
   * database fault rejects with KeywardError('UNAVAILABLE') and changes nothing.
   * The embedded stores run one transaction at a time; PostgreSQL runs a
   * process's transactions side by side, each locking what it reads (an
   * owner's active count locks the owner), so every check holds as if they
   * had run one after another. `fn` may run more than once (a deadlock or a
   * lost connection before COMMIT): it keeps no state outside the transaction.
   */
  transact<T>(fn: (tx: Transaction) => Promise<T> | T, how?: TransactHow): Promise<T>;

  /** Appends events that change no record (auth failures, excessive use). */
  append(events: readonly KeywardEvent[]): Promise<void>;
  findEvents(q: EventFind): Promise<EventPage>;

  /**
   * Adds usage counts (and the events that go with them) to the aggregates.
   * A flush named by `flush` is applied at most once: one whose answer was
   * lost (OUTCOME_UNKNOWN, UNAVAILABLE after it went out) is sent again
   * whole under the same name, and is skipped if the first one was applied.
   */
  recordUsage(counts: readonly UsageCount[], events: readonly KeywardEvent[], flush?: FlushId): Promise<void>;
  /**
   * The flusher `by` sends no flush again: every flush of its was answered
   * and it is done (its process's usage pipeline closed). A store that keeps
   * flushers' names to apply a flush sent again once may forget `by`'s.
   * Absent where the names cost nothing to keep.
   */
  flusherDone?(by: string): Promise<void>;
  /** Uses per key since a time, summed over every server; keys with no use are left out unless named. */
  usageSince(since: number, keyIds?: readonly string[]): Promise<KeyUsage[]>;
  /** Last use and last addresses of these keys (ever), summed over every server. */
  lastUsedOf(keyIds: readonly string[]): Promise<Map<string, KeyUsage>>;

  /** Removes events and usage older than `before` (whole segments where the store keeps segments). */
  removeBefore(before: number): Promise<void>;

  /** This process's view of the store's machinery (StoreGauges); absent where there is none to report. */
  gauges?(): StoreGauges;
  /**
   * Reads how far this process's clock is from the store's (StoreGauges.clock)
   * now; absent where the store keeps no clock of its own (a file on this
   * machine). UNAVAILABLE when the store cannot be asked.
   */
  clockOffset?(): Promise<ClockOffsetReading>;

  /** Grows with every change this process has seen, its own and others'. Never goes back. */
  version(): number;
  /** Called after every change seen (own and, within 100 ms / 1 s for PostgreSQL, others'). */
  onChange(listener: (change: StoreChange) => void): () => void;
  /**
   * For a cache that answers from what onChange told, without asking (the
   * verifier's), where telling others' changes in time depends on this
   * process's event loop turning (the JSON store's follower). Asked at the
   * first cached answer of each turn of the loop: undefined while the cache
   * may answer; else a look, settled once every change acknowledged before
   * it was asked has been told. Absent where the store keeps its bound by
   * other means.
   */
  catchingUp?(): Promise<void> | undefined;

  /**
   * Lets what was asked before finish, then lets go of files, watches, timers
   * and connections. From then on every read and write is refused with
   * UNAVAILABLE and opens nothing again (closed.ts; the conformance suite);
   * closing again is harmless.
   */
  close(): Promise<void>;
}
