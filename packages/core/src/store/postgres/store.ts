// The PostgreSQL adapter of the store boundary (boundary.ts). Any number of
// Keyward processes on any number of hosts share one database: every rule's
// check runs inside the transaction that writes (the owner's row locked while
// the key limit is counted), events commit with the writes they describe,
// and every change is announced to every server (changes.ts).

import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { ApiKey, KeywardEvent, Tenant, User } from '../../domain.js';
import { randomHex } from '../../random.js';
import { KeywardError } from '../../refusal.js';
import type { ClockOffsetReading, EventFind, EventPage, FlushId, FoundPage, InitialState, KeyFind, KeyUsage, Store, StoreChange, StoreGauges, StoreReads, TransactHow, Transaction, UsageCount } from '../boundary.js';
import { changeOf } from '../change-signal.js';
import { APPLICATION, type Backend, seenGone } from './backend-fate.js';
import { storeClosed } from '../closed.js';
import { endOfTurn } from '../end-of-turn.js';
import { CHANNEL, type Change, ChangeFeed, announce, beginMarked, notificationOf } from './changes.js';
import { ClockOffset, readClock } from './clock-offset.js';
import { connectionConfig } from './connection.js';
import { KeywardClient, type KeywardClientConfig } from './keyward-client.js';
import { eventThere, eventsBeforeGone, findEvents, insertEvents, removeEventsBefore } from './events-table.js';
import { CHANGED_SINCE_SEEN, Expectations, TransactionOnWhatWasSeen, putCountedKeysAndAnnounce } from './expectations.js';
import { type SearchIndex, countActive, countActiveUntil, findKeys, keysThereAsWritten, markAfterMaking, readKey, readKeysByIdPrefix, readKeysOf } from './keys-table.js';
import { LastSeen } from './last-seen.js';
import { SCHEMA_VERSION, migrate, schemaState } from './migrations.js';
import { type Sql, cancelled, checkout, isRetryable, isUnavailable, outcomeUnknown, prepared, privilegeRefused, sessionShared, unavailable } from './sql.js';
import { insertTenant, readTenant, tenantThere } from './tenant-table.js';
import { flushThere, flushedBefore, forgetFlusher, lastUsedOf, lastUsesWritten, noteFlush, removeUsageBefore, upsertUsage, usageBeforeGone, usageSince } from './usage-table.js';
import { RecordCache } from './record-cache.js';
import { redactUrl } from './url.js';
import { MERGE_PENDING_SEARCH_ENTRIES, SearchUpkeep } from './search-upkeep.js';
import { TransactionWrites } from './transaction-writes.js';
import { WholeBatches, type WholeFate } from './whole-batches.js';
import { lockUserRow, readUser, readUsers, writeUser } from './users-table.js';

export interface PostgresStoreOptions {
  /** Connections this process's pool may hold (default 10; the LISTEN connection is one more). */
  poolSize?: number;
}

// Retries of a transaction PostgreSQL aborted to break a deadlock or a serialization conflict.
const RETRIES = 5;

function reads(sql: Sql, search: SearchIndex): StoreReads {
  return {
    tenant: () => readTenant(sql),
    getUser: (id) => readUser(sql, id),
    listUsers: () => readUsers(sql),
    getKey: (id) => readKey(sql, id),
    keysByIdPrefix: (prefix, limit) => readKeysByIdPrefix(sql, prefix, limit),
    keysOf: (owner) => readKeysOf(sql, owner),
    countActiveKeys: async (owner, now) => (await countActive(sql, owner, now)).n,
    findKeys: (q) => findKeys(sql, q, search),
  };
}

/**
 * Reads inside a transaction lock what they read until commit, so a check
 * made on them still holds when the write lands, whichever server writes
 * next: a key or a user read is locked FOR UPDATE (a second revoke of the
 * same key waits, then sees it revoked); the tenant and the user list FOR
 * SHARE (every create reads the settings; two admins demoted at once
 * deadlock, PostgreSQL aborts one, and its retry sees the other's change).
 * An owner's active count locks the owner's row first (as lockUser does):
 * a second transaction counting the same owner's keys waits until the first
 * commits, then counts its key too.
 * A user's row is locked once per transaction: lockUser after reading or
 * counting for the same user costs no round trip (statements of one
 * connection run in the order they are sent, so whatever the transaction
 * sends after that read runs with the row locked).
 */
function lockingReads(sql: Sql, search: SearchIndex): StoreReads & Pick<Transaction, 'lockUser'> & { countActiveWithChanges(owner: string, now: number): Promise<{ n: number; changes: number }> } {
  const locked = new Set<string>();
  const lock = (id: string) => {
    if (locked.has(id)) return undefined;
    locked.add(id);
    return lockUserRow(sql, id);
  };
  return {
    ...reads(sql, search),
    tenant: () => readTenant(sql, 'FOR SHARE'),
    getUser: (id) => {
      locked.add(id);
      return readUser(sql, id, 'FOR UPDATE');
    },
    countActiveKeys: async (owner, now) => (await Promise.all([lock(owner), countActive(sql, owner, now)]))[1].n,
    countActiveWithChanges: async (owner, now) => (await Promise.all([lock(owner), countActive(sql, owner, now)]))[1],
    lockUser: async (id) => {
      await lock(id);
    },
    listUsers: () => readUsers(sql, 'FOR SHARE'),
    getKey: (id) => readKey(sql, id, 'FOR UPDATE'),
    keysOf: (owner) => readKeysOf(sql, owner, 'FOR UPDATE'),
  };
}

/** What reads answer before `keyward init` made the schema: nothing. */
const EMPTY: StoreReads = {
  tenant: async () => undefined,
  getUser: async () => undefined,
  listUsers: async () => [],
  getKey: async () => undefined,
  keysByIdPrefix: async () => [],
  keysOf: async () => [],
  countActiveKeys: async () => 0,
  findKeys: async () => ({ data: [], total: 0, hasNext: false, hasPrev: false }),
};

export class PostgresStore implements Store {
  readonly location: string;
  private readonly pool: pg.Pool;
  /** The pool, its statements prepared (sql.ts prepared). */
  private readonly sql: Sql;
  private readonly feed: ChangeFeed;
  /** This process among the servers, for its own usage rows and to skip its own notifications. */
  private readonly server = randomBytes(8).toString('hex');
  private schema?: Promise<boolean>;
  /** The schema is there and up to date (ready() said so once; it stays so). */
  private present = false;
  /** Whether searches have their index: learnt as the schema is found ready. */
  private readonly search: SearchIndex = { indexed: false };
  private readonly searchUpkeep = new SearchUpkeep(
    () => this.write(() => this.sql.query(MERGE_PENDING_SEARCH_ENTRIES)),
    () => this.search.indexed,
  );
  // Set by close(): what the pool answers from then on is its own words, refused here as UNAVAILABLE (guard).
  private closing = false;
  private closed?: Promise<void>;
  /** Writes asked before close() that are not done yet: close() waits for them before it ends the pool. */
  private readonly underway = new Set<Promise<unknown>>();
  /** Transactions running now, at most `transactionsAtOnce`; the rest wait their turn in `waiting`. */
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly transactionsAtOnce: number;
  private readonly poolSize: number;
  private readonly poolReads: StoreReads;
  private readonly cache: RecordCache;
  private readonly seen = new LastSeen();
  /** The record cache's count of an owner with its mark, for a create's guess (expectations.ts TransactionOnWhatWasSeen). */
  private readonly keptCount = (owner: string, now: number) => this.cache.seenCount(owner, now);
  /**
   * The pool's reads, but each owner's count read from the database now,
   * with its mark: for a create decided again after its check refused
   * (transactOnWhatWasSeen), where the cached count may not have the create
   * that refused it yet.
   */
  private readonly freshCounts: StoreReads;
  /** How far this process's clock is from the database's: read at clockOffset() and every few of the feed's heartbeats. */
  private readonly clock = new ClockOffset();
  /** Creates sent whole that wait behind one another go in one statement (whole-batches.ts). */
  private readonly wholes = new WholeBatches((w) => this.putWhole(w.expected, w.keys, w.events, w.change));

  constructor(url: string, opts: PostgresStoreOptions = {}) {
    this.location = redactUrl(url);
    // The pool and the LISTEN client connect alike (TLS as the URL asks, connection.ts).
    const connection = connectionConfig(url);
    const config: pg.PoolConfig & KeywardClientConfig = {
      // Where and how to connect; what follows is Keyward's own and wins over a URL parameter of the same name
      // (application_name: fateOf ends only backends named so).
      ...connection,
      max: opts.poolSize ?? 10,
      // A request waits at most this long for a connection (a new one, or its
      // turn for a pooled one under load); then it is UNAVAILABLE, not a hang.
      // A database that is down refuses at once; this bounds one that does not
      // answer. The URL's connect_timeout, where it gives one, instead.
      connectionTimeoutMillis: connection.connectTimeoutMs ?? 5000,
      idleTimeoutMillis: 10_000,
      query_timeout: 15_000,
      keepAlive: true,
      allowExitOnIdle: true,
      application_name: APPLICATION,
      // Statements of one transaction go out without waiting for each
      // other's answers (node-postgres pipelining): BEGIN with the first
      // reads, the writes with COMMIT. See inTransaction.
      pipeline: true,
      // Its connections as the URL's sslmode asks, prefer and allow included, and to the primary only (keyward-client.ts).
      Client: KeywardClient,
      // Each notes the server it reached, so a lost connection's backend is looked for there only (backend-fate.ts).
      knowsItsServer: true,
    };
    this.pool = new pg.Pool(config);
    // Half the pool at most, so reads always find a connection.
    this.poolSize = config.max ?? 10;
    this.transactionsAtOnce = Math.max(1, Math.floor(this.poolSize / 2));
    // An idle connection that dies (the database restarting) is the pool's to replace, not a crash.
    this.pool.on('error', () => undefined);
    this.sql = prepared(this.pool, { askAgain: true });
    this.cache = new RecordCache(() => this.feed.live);
    this.feed = new ChangeFeed(connection, this.server, {
      heartbeat: () => this.cache.heartbeat(),
      madeUnused: (keyIds) => this.cache.madeElsewhere(keyIds),
      clockRead: (r) => this.clock.add(r),
    });
    this.feed.watch((c) => {
      this.cache.changed(c);
      this.seen.changed(c);
    });
    const plain = reads(this.sql, this.search);
    // What the pool answers is also what was last seen (expectations.ts guesses from it).
    const seen = this.seen;
    this.poolReads = {
      ...plain,
      tenant: () => this.cache.tenantOf(async () => seen.sawTenant(await plain.tenant())),
      getUser: (id) => this.cache.userOf(id, async () => seen.sawUser(id, await plain.getUser(id))),
      listUsers: () => this.cache.usersOf(plain.listUsers),
      countActiveKeys: (owner, now) =>
        this.cache.activeKeysOf(owner, now, async () => {
          const { n, until, newest, changes } = await countActiveUntil(this.sql, owner, now);
          seen.sawActive(owner, n, now, changes);
          return { n, until, newest, seen: { changes, at: now } };
        }),
      findKeys: (q) => this.cache.pageOf(q, () => plain.findKeys(q)),
    };
    this.freshCounts = {
      ...this.poolReads,
      countActiveKeys: async (owner, now) => {
        const { n, changes } = await countActive(this.sql, owner, now);
        return seen.sawActive(owner, n, now, changes);
      },
    };
  }

  // ---- reads ----

  tenant(): Promise<Tenant | undefined> {
    return this.read((r) => r.tenant());
  }
  getUser(id: string): Promise<User | undefined> {
    return this.read((r) => r.getUser(id));
  }
  listUsers(): Promise<User[]> {
    return this.read((r) => r.listUsers());
  }
  getKey(id: string): Promise<ApiKey | undefined> {
    return this.read((r) => r.getKey(id));
  }
  keysByIdPrefix(prefix: string, limit: number): Promise<ApiKey[]> {
    return this.read((r) => r.keysByIdPrefix(prefix, limit));
  }
  keysOf(owner: string): Promise<ApiKey[]> {
    return this.read((r) => r.keysOf(owner));
  }
  countActiveKeys(owner: string, now: number): Promise<number> {
    return this.read((r) => r.countActiveKeys(owner, now));
  }
  findKeys(q: KeyFind): Promise<FoundPage<ApiKey>> {
    return this.read((r) => r.findKeys(q));
  }
  findEvents(q: EventFind): Promise<EventPage> {
    return this.guard(async () => ((await this.ready(false)) ? findEvents(this.sql, q) : { data: [], hasNext: false, hasPrev: false }));
  }
  usageSince(since: number, keyIds?: readonly string[]): Promise<KeyUsage[]> {
    return this.guard(async () => ((await this.ready(false)) ? usageSince(this.sql, since, keyIds) : []));
  }
  lastUsedOf(keyIds: readonly string[]): Promise<Map<string, KeyUsage>> {
    return this.guard(async () => ((await this.ready(false)) ? this.cache.lastUsesOf(keyIds, (ids) => lastUsedOf(this.sql, ids)) : new Map()));
  }

  // ---- writes ----

  create(init: InitialState): Promise<boolean> {
    return this.write(() => this.guard(async () => {
      await this.ready(true);
      const made = changeOf({ tenant: true, userIds: init.users.map((u) => u.id), keyIds: [] });
      const created = await this.inTransaction(async (c, send, tell) => {
        if (!(await insertTenant(c, init.tenant))) return false;
        for (const u of init.users) send(writeUser(c, u));
        send(insertEvents(c, init.events));
        // Its tenant's id (a fresh one) is there once its backend is gone: it committed. A copy's init has no event.
        tell(made, (s) => tenantThere(s, init.tenant.id));
        return true;
      });
      if (created) this.feed.changed(made);
      return created;
    }));
  }

  /**
   * Transactions of this process run side by side, each on a connection of
   * its own, like those of different servers: what each reads it locks
   * (lockingReads), so each check still holds at commit as if they had run
   * one after another, and concurrent commits share PostgreSQL's WAL flushes
   * (group commit) instead of each waiting for the last one's fsync.
   */
  transact<T>(fn: (tx: Transaction) => Promise<T> | T, how?: TransactHow): Promise<T> {
    return this.write(() => this.transactInTurn(fn, how));
  }

  private async transactInTurn<T>(fn: (tx: Transaction) => Promise<T> | T, how?: TransactHow): Promise<T> {
    if (this.running < this.transactionsAtOnce) this.running++;
    // A finishing transaction hands its place to the first waiting.
    else await new Promise<void>((go) => this.waiting.push(go));
    try {
      const done = how?.onWhatWasSeen ? await this.transactOnWhatWasSeen(fn) : undefined;
      return done ? done.answer : await this.transactNow(fn);
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }

  private transactNow<T>(fn: (tx: Transaction) => Promise<T> | T): Promise<T> {
    return this.guard(async () => {
      await this.needSchema();
      for (let attempt = 1; ; attempt++) {
        try {
          return await this.transactOnce(fn);
        } catch (e) {
          if (attempt < RETRIES && isRetryable(e)) continue;
          throw e;
        }
      }
    });
  }

  append(events: readonly KeywardEvent[]): Promise<void> {
    if (events.length === 0) return Promise.resolve();
    return this.write(() => this.guard(async () => {
      await this.needSchema();
      await this.inTransaction(async (c, send, tell) => {
        send(insertEvents(c, events));
        const first = events[0].id;
        tell({}, (s) => eventThere(s, first));
      });
      this.feed.changed({});
    }));
  }

  recordUsage(counts: readonly UsageCount[], events: readonly KeywardEvent[], flush?: FlushId): Promise<void> {
    if (counts.length === 0 && events.length === 0) return Promise.resolve();
    return this.write(() => this.guard(async () => {
      await this.needSchema();
      // Names the keys whose last use it writes: caches drop only theirs (migration 5 counts the change).
      const written = lastUsesWritten(counts);
      const used: Change = { usedKeyIds: [...written.keys()], lastUsesWritten: [...written.values()] };
      try {
        await this.inTransaction(async (c, send, tell) => {
          // First, so a flush written before fails before anything of it is written again.
          if (flush) for (const s of noteFlush(c, flush)) send(s);
          send(upsertUsage(c, this.server, counts));
          send(insertEvents(c, events));
          // Its name (kept until this process's next flush), else its first event (a fresh id), tells once its backend is
          // gone whether a flush whose answer was lost committed. A flush with neither (a copy's counts) cannot be told.
          const first = events[0]?.id;
          tell(used, flush ? (s) => flushThere(s, flush) : first !== undefined ? (s) => eventThere(s, first) : undefined);
        });
      } catch (e) {
        // Sent before, and its answer lost then: it is there, once.
        if (flushedBefore(e)) return;
        // Maybe committed: keys others made are not taken as never used for a while (record-cache.ts madeElsewhere).
        if (isUnavailable(e) || (e instanceof KeywardError && e.code === 'OUTCOME_UNKNOWN')) this.cache.flushUnsure();
        throw e;
      }
      this.feed.changed(used);
    }));
  }

  /**
   * Its latest name goes (usage-table.ts forgetFlusher): kept until its next
   * flush or retention's sweep, it was a row per process that ever flushed
   * (every `keyward keys verify`, every server start), for the retention and
   * a day. Not a change anyone caches.
   */
  flusherDone(by: string): Promise<void> {
    return this.write(() => this.guard(async () => {
      await forgetFlusher(this.sql, by);
    }));
  }

  removeBefore(before: number): Promise<void> {
    return this.write(() => this.guard(async () => {
      if (!(await this.ready(false))) return;
      await this.inTransaction(async (c, send, tell) => {
        send(removeEventsBefore(c, before));
        send(removeUsageBefore(c, before));
        // What it removes is gone once its backend is: removed, by it or another server's sweep, which is the same.
        tell({}, async (s) => (await eventsBeforeGone(s, before)) && (await usageBeforeGone(s, before)));
      });
      this.feed.changed({});
    }));
  }

  // ---- change signal ----

  /** Own changes, and others' once something listens (onChange starts the LISTEN connection). */
  version(): number {
    return this.feed.version;
  }

  /** True while this process hears other servers' changes (its LISTEN connection is up). */
  get listening(): boolean {
    return this.feed.live;
  }

  onChange(listener: (change: StoreChange) => void): () => void {
    return this.feed.subscribe(listener);
  }

  gauges(): StoreGauges {
    return { connections: { open: this.pool.totalCount, idle: this.pool.idleCount, waiting: this.pool.waitingCount }, feed: this.feed.gauges, clock: this.clock.best };
  }

  /** Three readings on the pool, kept with the change feed's; the surest of them all (clock-offset.ts). */
  clockOffset(): Promise<ClockOffsetReading> {
    return this.guard(async () => {
      for (let i = 0; i < 3; i++) this.clock.add(await readClock(this.pool));
      return this.clock.best!;
    });
  }

  /**
   * Refuses the writes asked from now on and ends the LISTEN connection;
   * the writes asked before are done first (one whose answer was lost still
   * learns its fate on the pool, ending a backend of its own that could
   * otherwise commit later), and only then is the pool ended: once it
   * returned, nothing more is sent on this store's behalf.
   */
  close(): Promise<void> {
    this.closed ??= (async () => {
      this.closing = true;
      await this.feed.close();
      await Promise.allSettled([...this.underway]);
      await this.pool.end().catch(() => undefined);
    })();
    return this.closed;
  }

  // ---- inside ----

  /**
   * `fn` decided on what this server last saw and sent as one statement
   * (expectations.ts); undefined when it must run the locking way instead:
   * it read what was not seen, refused, wrote more than new keys and their
   * events, or what it was decided on had changed (then nothing was written).
   */
  private transactOnWhatWasSeen<T>(fn: (tx: Transaction) => Promise<T> | T, again = false): Promise<{ answer: T } | undefined> {
    return this.guard(async () => {
      await this.needSchema();
      const expected = new Expectations();
      const writes = new TransactionWrites();
      const tx = again
        ? new TransactionOnWhatWasSeen(this.seen, this.freshCounts, expected, writes)
        : new TransactionOnWhatWasSeen(this.seen, this.poolReads, expected, writes, this.keptCount);
      let answer: T;
      try {
        answer = await fn(tx);
      } catch {
        // A refusal is given the locking way, on what the locks hold.
        return undefined;
      }
      const made = [...writes.keysPut.values()];
      if (made.length === 0 || !writes.onlyKeysPut || !made.every((k) => expected.absentKeys.has(k.id))) return undefined;
      const change = writes.change();
      const fate = await this.wholes.submit({ expected, keys: made, events: writes.emitted, change });
      if (fate === 'not written' || fate === 'changed since seen') {
        // Forget these guesses: read again, and the locking way reads them again. Refused by the check, usually
        // because another server's create for the same owner committed first (its notification not heard yet):
        // decided again once on the owner's count read now and sent whole, it is one count and one statement
        // instead of the locking way's; refused again, the locking way.
        this.seen.forget(expected);
        return fate === 'changed since seen' && !again ? this.transactOnWhatWasSeen(fn, true) : undefined;
      }
      this.madeHere(change);
      if (fate === 'committed, maybe not announced') {
        // Its NOTIFY may not have gone: other servers' heartbeats find the change counted but never announced (changes.ts).
        this.seen.forget(expected);
        return { answer };
      }
      // The counts as this commit left them: what was checked, and the keys it added (each moves the owner's mark).
      for (const [owner, { n, at, seen }] of expected.counts) {
        const ownKeys = made.filter((k) => k.owner === owner);
        const active = ownKeys.filter((k) => k.revokedAt === undefined && Date.parse(k.expiry) > at).length;
        this.seen.sawActive(owner, n + active, at, seen === undefined ? undefined : seen.changes + markAfterMaking(ownKeys.length));
      }
      return { answer };
    });
  }

  /**
   * Sends a transaction decided on `expected` and the NOTIFY of `change` as
   * one statement (expectations.ts putCountedKeysAndAnnounce). Answered, it
   * committed and announced. Refused because an expectation no longer held,
   * nothing was written ('changed since seen'). Refused otherwise (a duplicate id, a deadlock —
   * before the key's COMMIT — or the NOTIFY's own commit after it), the
   * session is idle again and whether the key is there says which. With the
   * connection lost or the backend ended (FATAL) instead, it may have
   * committed just before: known by whether the key is there once that
   * backend is gone; OUTCOME_UNKNOWN while that cannot be known (never
   * UNAVAILABLE, which says nothing was changed).
   * It is answered only once its NOTIFY committed (or never will): no token
   * of the new keys leaves this server before the other servers'
   * notification of them is committed, so they may take the keys as never
   * used (announce's `first`).
   */
  private async putWhole(expected: Expectations, keys: readonly ApiKey[], events: readonly KeywardEvent[], change: Change): Promise<WholeFate> {
    const { client: c, release } = await checkout(this.pool);
    let broken = false;
    try {
      const { payload, counted } = notificationOf(this.server, change, { first: true });
      // Always so for new keys (migration 3's trigger counts them): the procedure's payload is a counted change's.
      if (!counted) throw new Error('A change that makes keys is a counted change.');
      await putCountedKeysAndAnnounce(prepared(c, { askAgain: false }), expected, keys, events, CHANNEL, payload);
      this.searchUpkeep.keysMade(keys.length);
      return 'committed';
    } catch (e) {
      if (e instanceof pg.DatabaseError && e.severity === 'ERROR') {
        if (e.code === CHANGED_SINCE_SEEN) return 'changed since seen';
        // Refused by name before it ran, on a session a pooler shares: the locking way refuses it, saying why (sql.ts).
        if (sessionShared(e)) return 'not written';
        // A session that cannot take changes (read-only, sql.ts) is not given back to the pool.
        broken = isUnavailable(e);
        // Unread (this session failing too, whatever its error), it is asked as for a lost connection, below.
        const there = await readKey(c, keys[0].id).then(
          (k) => k !== undefined,
          () => undefined,
        );
        if (there !== undefined) return there ? 'committed, maybe not announced' : 'not written';
      } else if (!isUnavailable(e)) return 'not written';
      broken = true;
      const fate = await this.fateOf(backendOf(c), async (sql) => (await readKey(sql, keys[0].id)) !== undefined).catch(() => 'unknown' as const);
      if (fate === 'unknown') throw outcomeUnknown(this.location, 'the new key');
      return fate === 'committed' ? 'committed, maybe not announced' : 'not written';
    } finally {
      release(broken);
    }
  }

  /**
   * Whether what a backend whose connection was lost (or which ended it) was
   * sending committed: known only once that backend has ended (it can commit
   * nothing more), by whether `there` finds what it wrote (a key it made, an
   * event it appended); without such a look, never (its backend is still
   * ended: nothing of it commits later).
   */
  private async fateOf(backend: Backend | undefined, there: Look | undefined): Promise<'committed' | 'not' | 'unknown'> {
    if (!(await seenGone((text, values) => this.askPool(() => this.pool.query<{ alive: boolean }>(text, values)), backend)) || !there) return 'unknown';
    // A statement of its own, after the backend was seen gone: its snapshot shows whatever that backend committed.
    const found = await this.askPool(() => there(this.sql));
    return found === undefined ? 'unknown' : found ? 'committed' : 'not';
  }

  /** `ask` on the pool, asked again past pooled connections the database closed while they sat idle (each is thrown away). */
  private async askPool<T>(ask: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await ask();
      } catch (e) {
        if (!isUnavailable(e) || attempt > this.poolSize) throw e;
      }
    }
  }

  private async transactOnce<T>(fn: (tx: Transaction) => Promise<T> | T): Promise<T> {
    const { answer, change } = await this.inTransaction(async (c, send, tell) => {
      const writes = new TransactionWrites();
      const locking = lockingReads(c, this.search);
      const seen = this.seen;
      const tx: Transaction = {
        ...locking,
        ...writes.writer,
        // What the locks hold is what was last seen (expectations.ts guesses from it).
        tenant: async () => seen.sawTenant(await locking.tenant()),
        getUser: async (id) => seen.sawUser(id, await locking.getUser(id)),
        countActiveKeys: async (owner, now) => {
          const { n, changes } = await locking.countActiveWithChanges(owner, now);
          return seen.sawActive(owner, n, now, changes);
        },
        getKey: async (id) => writes.readKey(id, await locking.getKey(id)),
        keysOf: async (owner) => writes.read(await locking.keysOf(owner)),
        keysByIdPrefix: async (prefix, limit) => writes.read(await locking.keysByIdPrefix(prefix, limit)),
        findKeys: async (q) => {
          const page = await locking.findKeys(q);
          writes.read(page.data);
          return page;
        },
      };
      const answer = await fn(tx);
      if (writes.none) return { answer, change: undefined };
      // Each writer sends its one statement at once: they go out in order, followed by COMMIT.
      const change = writes.send(c, send);
      // Every change a use case makes appends an event (a fresh id): there once the backend is gone, it committed.
      // A copy's keys come without one: they are there as written (its effect, whoever made it), or none of them is.
      const first = writes.emitted[0]?.id;
      const keys = [...writes.keysPut.values()];
      tell(change, first !== undefined ? (s) => eventThere(s, first) : writes.onlyKeysPut && keys.length > 0 ? (s) => keysThereAsWritten(s, keys) : undefined);
      return { answer, change };
    });
    if (change) this.madeHere(change);
    return answer;
  }

  /**
   * A change this server committed, told to its listeners — and, when it
   * made keys, that they were never used: no token of theirs has left this
   * server yet, so any flush that uses one comes after this, names it, and
   * drops what is kept here (record-cache.ts neverUsed).
   */
  private madeHere(change: Change): void {
    this.feed.changed(change);
    if (change.made?.length) this.cache.neverUsed(change.made.map((k) => k.id));
  }

  /**
   * BEGIN … COMMIT on one connection, pipelined: BEGIN goes out with the
   * first reads `fn` makes, and what `fn` hands to `send` (its writes and
   * events) goes out with COMMIT, each statement without waiting for the
   * answer to the one before — a create costs two round trips, not ten —
   * and statements sent in one tick leave in one write (corkedForEachTick).
   * PostgreSQL runs them in order; once one fails, the rest fail and COMMIT
   * rolls back, so the first failure is what is thrown. The change `fn`
   * hands to `tell` is announced to the other servers right behind COMMIT,
   * in the same write (changes.ts announce says why not before it), so a
   * process killed meanwhile has sent both or neither.
   * ROLLBACK on any throw before COMMIT is sent; a broken connection is not
   * given back to the pool. `fn` may run twice (keep its state inside it): a
   * pooled connection the database closed while it sat idle (a restart)
   * fails, and then nothing happened, so it runs again on another
   * connection (every pooled one may have been closed: as many times as the
   * pool holds connections, and a new one is made once they are thrown
   * away) — when it failed before COMMIT was sent, or when the database
   * itself refused a statement ahead of COMMIT (its writes, pipelined with
   * COMMIT: the COMMIT then rolled back). Lost with no word from the database after
   * COMMIT was sent (or ended by it there), whether it committed is learnt
   * once its backend is gone (ended if need be), by the look `fn` hands to
   * `tell` with what it wrote (an event it appended is there, a fresh id):
   * answered as committed, or UNAVAILABLE (nothing was changed, nor will
   * be); OUTCOME_UNKNOWN while that cannot be learnt, or when it wrote
   * something with no look to tell. `fn` calls `tell` whenever it writes:
   * one that did not (its reads, then COMMIT) changed nothing, UNAVAILABLE.
   */
  private async inTransaction<T>(
    fn: (c: Sql, send: (statement: Promise<unknown>) => void, tell: (change: Change, there?: Look) => void) => Promise<T>,
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const { client: c, release } = await checkout(this.pool);
      const sent: Promise<unknown>[] = [];
      // A pooler that shares sessions refuses a statement and ends the connection (sql.ts sessionShared):
      // the reads `fn` awaits then fail only with "Connection terminated", so the refusal is kept to be told.
      let shared: unknown;
      const send = (statement: Promise<unknown>) => {
        // Answered in firstFailure; until then a failure must not count as unhandled.
        statement.catch((reason: unknown) => {
          if (sessionShared(reason)) shared ??= reason;
        });
        sent.push(statement);
      };
      let committing = false;
      let rolledBack = false;
      let broken = false;
      let told = false;
      let change: Change | undefined;
      let there: Look | undefined;
      let result!: T;
      // Every statement of the transaction goes through `sql`: prepared, and held until the tick ends.
      const sql = corkedForEachTick(c, prepared(c, { askAgain: false }));
      // What the NOTIFY checks: set by this transaction only if it commits (changes.ts announce).
      const mark = randomHex(8);
      send(beginMarked(sql, mark));
      try {
        result = await fn(sql, send, (what, look) => {
          told = true;
          change = what;
          there = look;
        });
        committing = true;
        const commitAt = sent.length;
        send(sql.query('COMMIT'));
        // Committed once COMMIT answers; the NOTIFY's own answer is not waited
        // for. One that fails (the database going away) does not undo the
        // change: listeners whose connection went with it hear `all`, and the
        // others' heartbeats find the change counted but never announced (changes.ts).
        if (change) announce(sql, this.server, change, mark).catch(() => undefined);
        const failed = await firstFailure(sent);
        if (failed) {
          rolledBack = failed.at < commitAt && stoppedThere(failed.reason);
          throw failed.reason;
        }
        return result;
      } catch (thrown) {
        const e = shared ?? thrown;
        broken = isUnavailable(e);
        // Once COMMIT has answered, the transaction is over whatever happened.
        if (!broken && !committing) await c.query('ROLLBACK').catch(() => (broken = true));
        // Run again on another connection, unless the database cancelled it (a lock or statement timeout: it would wait that out again).
        if (broken && (!committing || rolledBack) && attempt <= this.poolSize && !cancelled(e)) continue;
        if (!broken || !committing || rolledBack || !told) throw e;
        // COMMIT went out with writes and its answer was lost: "nothing was changed" may be false. Known once the backend is gone.
        const fate = await this.fateOf(backendOf(c), there).catch(() => 'unknown' as const);
        if (fate === 'committed') return result;
        // Not committed, and never will be (its backend ended): UNAVAILABLE is true. Not run again here: one
        // that waited at a lock past the query timeout would wait there again, as many times as the pool holds.
        throw fate === 'not' ? e : outcomeUnknown(this.location, 'the change');
      } finally {
        release(broken);
      }
    }
  }

  /** A write, refused once close() was called, and waited for by close() when asked before it. */
  private write<T>(run: () => Promise<T>): Promise<T> {
    if (this.closing) return Promise.reject(storeClosed(this.location));
    const p = run();
    this.underway.add(p);
    p.then(
      () => this.underway.delete(p),
      () => this.underway.delete(p),
    );
    return p;
  }

  private read<T>(fn: (r: StoreReads) => Promise<T>): Promise<T> {
    this.feed.read();
    // A read asks again once: the first try may have met a connection the database closed while idle.
    const again = (e: unknown) => (isUnavailable(e) && !this.closing ? this.guard(() => fn(this.poolReads)) : Promise.reject(this.refusalOf(e)));
    // The usual case, the schema known to be there: the cache (or the pool) is asked at the end of the
    // event loop's turn, with every read of that turn, so a busy server writes that turn's answers in one
    // burst (end-of-turn.ts) — and asked after every change this server heard during that turn.
    if (this.present) return endOfTurn().then(() => fn(this.poolReads)).catch(again);
    const once = async () => fn((await this.ready(false)) ? this.poolReads : EMPTY);
    return this.guard(() => once().catch((e: unknown) => (isUnavailable(e) ? once() : Promise.reject(e))));
  }

  /**
   * Database faults become UNAVAILABLE (never with the password), and so does
   * whatever a closed pool answers a read or change still under way as the
   * store closes (the driver's own words, with no code); refusals and bugs pass through.
   */
  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw this.refusalOf(e);
    }
  }

  private refusalOf(e: unknown): unknown {
    if (this.closing && !(e instanceof KeywardError)) return new KeywardError('UNAVAILABLE', `The PostgreSQL store at ${this.location} was closed while this was asked of it.`);
    return isUnavailable(e) || privilegeRefused(e) ? unavailable(this.location, e) : e;
  }

  private async needSchema(): Promise<void> {
    if (!(await this.ready(false))) throw new KeywardError('UNAVAILABLE', `There is no Keyward store at ${this.location} yet; run \`keyward init --store …\`.`);
  }

  /**
   * Whether the schema is there, bringing an older one up to date. With
   * `create`, makes it. Remembered once true; asked again while absent (init
   * may run in another process) or after a failure.
   */
  private ready(create: boolean): Promise<boolean> {
    if (this.schema) return this.schema;
    const check = (async () => {
      const at = await schemaState(this.pool);
      if (at.version === 0 && !create) return false;
      if (at.version !== SCHEMA_VERSION) {
        // A migration whose answer was lost may have committed (an init told "nothing was changed" left a schema
        // without a tenant): asked again, it waits at the migrations' lock for a backend still holding it, and
        // finds the work done or does it.
        await migrate(this.pool, this.location).catch((e: unknown) => (isUnavailable(e) ? migrate(this.pool, this.location) : Promise.reject(e)));
      } else if (!at.allSearchIndexed || at.foldChanged) {
        // Upkeep of a current schema (a search index to build, the description index to fold again): a server
        // that may not do it (a standby, a role that may not create in the database) serves with the schema as it is.
        await migrate(this.pool, this.location).catch(() => undefined);
      } else {
        this.search.indexed = true;
        return true;
      }
      this.search.indexed = (await schemaState(this.pool)).searchIndexed;
      return true;
    })();
    this.schema = check;
    check.then(
      (present) => {
        if (present) this.present = true;
        else if (this.schema === check) this.schema = undefined;
      },
      () => {
        if (this.schema === check) this.schema = undefined;
      },
    );
    return check;
  }
}

/** A look, on a session of its own, at whether what a transaction wrote is there: it committed (undefined: it cannot tell). */
type Look = (sql: Sql) => Promise<boolean | undefined>;

/** The backend a connection talks to (pg_stat_activity's pid, and its server: KeywardClient), if it got that far. */
function backendOf(c: pg.PoolClient): Backend | undefined {
  // The pid the backend gave when asked, where it was (a pooler's BackendKeyData names none: backend-fate.ts).
  if (c instanceof KeywardClient && c.backendPid !== undefined) return { pid: c.backendPid, server: c.server };
  const pid = (c as unknown as { processID?: number }).processID;
  return pid ? { pid, server: c instanceof KeywardClient ? c.server : undefined } : undefined;
}

type Socket = { cork(): void; uncork(): void };
const corked = new WeakSet<Socket>();

/**
 * Holds what is sent on `c` until the promise chains running now have
 * settled (process.nextTick runs once the microtask queue is empty, before
 * any I/O is waited for), then sends it in one write: one system call and
 * one wake-up of the database's backend per batch of statements instead of
 * one per statement.
 */
function corkedForEachTick(c: pg.PoolClient, sql: Sql): Sql {
  const socket = (c as unknown as { connection?: { stream?: Partial<Socket> } }).connection?.stream;
  if (typeof socket?.cork !== 'function' || typeof socket.uncork !== 'function') return sql;
  const s = socket as Socket;
  const query = (...args: unknown[]) => {
    if (!corked.has(s)) {
      corked.add(s);
      s.cork();
      process.nextTick(() => {
        corked.delete(s);
        s.uncork();
      });
    }
    return (sql.query as (...a: unknown[]) => unknown).apply(sql, args);
  };
  return { query } as Sql;
}

/**
 * Whether a statement's failure means nothing sent after it ran: the
 * database refused it (its answer was an error, so the transaction is
 * aborted, or the backend ended), or the driver never sent it (the
 * connection was already broken). Not so for a connection lost with no word:
 * statements after it may have run.
 */
function stoppedThere(e: unknown): boolean {
  return e instanceof pg.DatabaseError || /is not queryable/.test((e as Error | undefined)?.message ?? '');
}

/** Waits for every statement sent; the first that failed, and where it was sent (those after it failed because it did). */
async function firstFailure(sent: readonly Promise<unknown>[]): Promise<{ at: number; reason: unknown } | undefined> {
  const settled = await Promise.allSettled(sent);
  const at = settled.findIndex((r) => r.status === 'rejected');
  return at < 0 ? undefined : { at, reason: (settled[at] as PromiseRejectedResult).reason };
}

export function createPostgresStore(url: string, opts?: PostgresStoreOptions): PostgresStore {
  return new PostgresStore(url, opts);
}
