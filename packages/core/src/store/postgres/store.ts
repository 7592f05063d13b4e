// The PostgreSQL adapter of the store boundary (boundary.ts). Any number of
// Keyward processes on any number of hosts share one database: every rule's
// check runs inside the transaction that writes (the owner's row locked while
// the key limit is counted), events commit with the writes they describe,
// and every change is announced to every server (changes.ts).

import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { ApiKey, KeywardEvent, Tenant, User } from '../../domain.js';
import { KeywardError } from '../../refusal.js';
import type { EventFind, EventPage, FoundPage, InitialState, KeyFind, KeyUsage, Store, StoreChange, StoreReads, Transaction, UsageCount } from '../boundary.js';
import { changeOf } from '../change-signal.js';
import { endOfTurn } from '../end-of-turn.js';
import { type Change, ChangeFeed, announce } from './changes.js';
import { findEvents, insertEvents, removeEventsBefore } from './events-table.js';
import { countActive, countActiveUntil, findKeys, readKey, readKeysByIdPrefix, readKeysOf, removeKey, writeKeys } from './keys-table.js';
import { SCHEMA_VERSION, migrate, schemaVersion } from './migrations.js';
import { type Sql, checkout, isRetryable, isUnavailable, prepared, unavailable } from './sql.js';
import { insertTenant, readTenant, writeTenant } from './tenant-table.js';
import { lastUsedOf, removeUsageBefore, upsertUsage, usageSince } from './usage-table.js';
import { RecordCache } from './record-cache.js';
import { redactUrl } from './url.js';
import { lockUserRow, readUser, readUsers, removeUser, writeUser } from './users-table.js';

export interface PostgresStoreOptions {
  /** Connections this process may hold (default 10). */
  poolSize?: number;
}

// Retries of a transaction PostgreSQL aborted to break a deadlock or a serialization conflict.
const RETRIES = 5;

function reads(sql: Sql): StoreReads {
  return {
    tenant: () => readTenant(sql),
    getUser: (id) => readUser(sql, id),
    listUsers: () => readUsers(sql),
    getKey: (id) => readKey(sql, id),
    keysByIdPrefix: (prefix, limit) => readKeysByIdPrefix(sql, prefix, limit),
    keysOf: (owner) => readKeysOf(sql, owner),
    countActiveKeys: (owner, now) => countActive(sql, owner, now),
    findKeys: (q) => findKeys(sql, q),
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
function lockingReads(sql: Sql): StoreReads & Pick<Transaction, 'lockUser'> {
  const locked = new Set<string>();
  const lock = (id: string) => {
    if (locked.has(id)) return undefined;
    locked.add(id);
    return lockUserRow(sql, id);
  };
  return {
    ...reads(sql),
    tenant: () => readTenant(sql, 'FOR SHARE'),
    getUser: (id) => {
      locked.add(id);
      return readUser(sql, id, 'FOR UPDATE');
    },
    countActiveKeys: async (owner, now) => (await Promise.all([lock(owner), countActive(sql, owner, now)]))[1],
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
  /** Transactions running now, at most `transactionsAtOnce`; the rest wait their turn in `waiting`. */
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly transactionsAtOnce: number;
  private readonly poolReads: StoreReads;
  private readonly cache: RecordCache;

  constructor(url: string, opts: PostgresStoreOptions = {}) {
    this.location = redactUrl(url);
    const config: pg.PoolConfig = {
      connectionString: url,
      max: opts.poolSize ?? 10,
      // A request waits at most this long for a connection (a new one, or its
      // turn for a pooled one under load); then it is UNAVAILABLE, not a hang.
      // A database that is down refuses at once; this bounds one that does not answer.
      connectionTimeoutMillis: 5000,
      idleTimeoutMillis: 10_000,
      query_timeout: 15_000,
      keepAlive: true,
      allowExitOnIdle: true,
      application_name: 'keyward',
      // Statements of one transaction go out without waiting for each
      // other's answers (node-postgres pipelining): BEGIN with the first
      // reads, the writes with COMMIT. See inTransaction.
      pipeline: true,
    };
    this.pool = new pg.Pool(config);
    // Half the pool at most, so reads always find a connection.
    this.transactionsAtOnce = Math.max(1, Math.floor((config.max ?? 10) / 2));
    // An idle connection that dies (the database restarting) is the pool's to replace, not a crash.
    this.pool.on('error', () => undefined);
    this.sql = prepared(this.pool, { askAgain: true });
    this.feed = new ChangeFeed({ connectionString: url }, this.server);
    this.cache = new RecordCache(() => this.feed.live);
    this.feed.watch((c) => this.cache.changed(c));
    const plain = reads(this.sql);
    this.poolReads = {
      ...plain,
      tenant: () => this.cache.tenantOf(plain.tenant),
      getUser: (id) => this.cache.userOf(id, () => plain.getUser(id)),
      listUsers: () => this.cache.usersOf(plain.listUsers),
      countActiveKeys: (owner, now) => this.cache.activeKeysOf(owner, now, () => countActiveUntil(this.sql, owner, now)),
      findKeys: (q) => this.cache.pageOf(q, () => plain.findKeys(q)),
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
    return this.guard(async () => {
      await this.ready(true);
      const made = changeOf({ tenant: true, userIds: init.users.map((u) => u.id), keyIds: [] });
      const created = await this.inTransaction(async (c, send, tell) => {
        if (!(await insertTenant(c, init.tenant))) return false;
        for (const u of init.users) send(writeUser(c, u));
        send(insertEvents(c, init.events));
        tell(made);
        return true;
      });
      if (created) this.feed.changed(made);
      return created;
    });
  }

  /**
   * Transactions of this process run side by side, each on a connection of
   * its own, like those of different servers: what each reads it locks
   * (lockingReads), so each check still holds at commit as if they had run
   * one after another, and concurrent commits share PostgreSQL's WAL flushes
   * (group commit) instead of each waiting for the last one's fsync.
   */
  async transact<T>(fn: (tx: Transaction) => Promise<T> | T): Promise<T> {
    if (this.running < this.transactionsAtOnce) this.running++;
    // A finishing transaction hands its place to the first waiting.
    else await new Promise<void>((go) => this.waiting.push(go));
    try {
      return await this.transactNow(fn);
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
    return this.guard(async () => {
      await this.needSchema();
      await this.inTransaction(async (c, send, tell) => {
        send(insertEvents(c, events));
        tell({});
      });
      this.feed.changed({});
    });
  }

  recordUsage(counts: readonly UsageCount[], events: readonly KeywardEvent[]): Promise<void> {
    if (counts.length === 0 && events.length === 0) return Promise.resolve();
    return this.guard(async () => {
      await this.needSchema();
      await this.inTransaction(async (c, send, tell) => {
        send(upsertUsage(c, this.server, counts));
        send(insertEvents(c, events));
        tell({});
      });
      this.feed.changed({});
    });
  }

  removeBefore(before: number): Promise<void> {
    return this.guard(async () => {
      if (!(await this.ready(false))) return;
      await this.inTransaction(async (c, send) => {
        send(removeEventsBefore(c, before));
        send(removeUsageBefore(c, before));
      });
      this.feed.changed({});
    });
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

  async close(): Promise<void> {
    await this.feed.close();
    await this.pool.end().catch(() => undefined);
  }

  // ---- inside ----

  private async transactOnce<T>(fn: (tx: Transaction) => Promise<T> | T): Promise<T> {
    const { answer, change } = await this.inTransaction(async (c, send, tell) => {
      // Writes wait until fn returns: reads in the transaction see the state before them,
      // and a refusal halfway through fn has nothing to undo.
      const writes: ((sql: Sql) => Promise<void>)[] = [];
      const events: KeywardEvent[] = [];
      const keyIds = new Set<string>();
      const userIds = new Set<string>();
      // Owners of the keys this transaction read or wrote, so the change can say whose keys it touched.
      const ownerOf = new Map<string, string>();
      const putOwnerOf = new Map<string, string>();
      // Ids this transaction found no key under, and the keys it put last: what it made (StoreChange.made).
      const absent = new Set<string>();
      const put = new Map<string, ApiKey>();
      const noteOwners = <K extends ApiKey | undefined>(keys: K[]): K[] => {
        for (const k of keys) if (k) ownerOf.set(k.id, k.owner);
        return keys;
      };
      const locking = lockingReads(c);
      let tenant = false;
      let pending: ((sql: Sql) => Promise<void>) | undefined;
      let pendingKeys = new Map<string, ApiKey>();
      const tx: Transaction = {
        ...locking,
        getKey: async (id) => {
          const k = await locking.getKey(id);
          if (!k) absent.add(id);
          return noteOwners([k])[0];
        },
        keysOf: async (owner) => noteOwners(await locking.keysOf(owner)),
        keysByIdPrefix: async (prefix, limit) => noteOwners(await locking.keysByIdPrefix(prefix, limit)),
        findKeys: async (q) => {
          const page = await locking.findKeys(q);
          noteOwners(page.data);
          return page;
        },
        putTenant: (t) => {
          tenant = true;
          writes.push((s) => writeTenant(s, t));
        },
        putUser: (u) => {
          userIds.add(u.id);
          writes.push((s) => writeUser(s, u));
        },
        deleteUser: (id) => {
          userIds.add(id);
          writes.push((s) => removeUser(s, id));
        },
        putKey: (k) => {
          keyIds.add(k.id);
          putOwnerOf.set(k.id, k.owner);
          put.set(k.id, k);
          // Keys put one after another go in one statement (the same key twice cannot share one upsert).
          const last = writes[writes.length - 1];
          if (pending !== undefined && last === pending && !pendingKeys.has(k.id)) pendingKeys.set(k.id, k);
          else {
            pendingKeys = new Map([[k.id, k]]);
            const batch = pendingKeys;
            pending = (s) => writeKeys(s, [...batch.values()]);
            writes.push(pending);
          }
        },
        deleteKey: (id) => {
          keyIds.add(id);
          put.delete(id);
          writes.push((s) => removeKey(s, id));
        },
        emit: (e) => {
          events.push(e);
        },
      };
      const answer = await fn(tx);
      if (writes.length === 0 && events.length === 0) return { answer, change: undefined };
      // Each writer sends its one statement at once: they go out in order, followed by COMMIT.
      for (const w of writes) send(w(c));
      send(insertEvents(c, events));
      const change: Change = changeOf({ tenant, userIds: [...userIds], keyIds: [...keyIds] });
      const owners = keyOwners(keyIds, ownerOf, putOwnerOf);
      if (owners) change.keyOwners = owners;
      // Read as absent under the lock (FOR UPDATE) and written: new keys, and all this change did to keys.
      if (keyIds.size > 0 && [...keyIds].every((id) => absent.has(id) && put.has(id))) change.made = [...put.values()];
      tell(change);
      return { answer, change };
    });
    if (change) this.feed.changed(change);
    return answer;
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
   * ROLLBACK on any throw; a broken connection is not given back to the
   * pool. `fn` may run twice (keep its state inside it): a pooled connection
   * the database closed while it sat idle (a restart) fails before COMMIT is
   * sent, and then nothing happened, so it runs again on a fresh connection.
   */
  private async inTransaction<T>(
    fn: (c: Sql, send: (statement: Promise<unknown>) => void, tell: (change: Change) => void) => Promise<T>,
  ): Promise<T> {
    for (let again = false; ; again = true) {
      const { client: c, release } = await checkout(this.pool);
      const sent: Promise<unknown>[] = [];
      const send = (statement: Promise<unknown>) => {
        // Answered in firstFailure; until then a failure must not count as unhandled.
        statement.catch(() => undefined);
        sent.push(statement);
      };
      let committing = false;
      let broken = false;
      let change: Change | undefined;
      // Every statement of the transaction goes through `sql`: prepared, and held until the tick ends.
      const sql = corkedForEachTick(c, prepared(c, { askAgain: false }));
      send(sql.query('BEGIN'));
      try {
        const result = await fn(sql, send, (what) => (change = what));
        committing = true;
        send(sql.query('COMMIT'));
        // Committed once COMMIT answers; the NOTIFY's own answer is not waited
        // for. One that fails (the database going away) does not undo the
        // change: listeners whose connection went with it hear `all`, and the
        // others' heartbeats find the change counted but never announced (changes.ts).
        if (change) announce(sql, this.server, change).catch(() => undefined);
        await firstFailure(sent);
        return result;
      } catch (e) {
        broken = isUnavailable(e);
        if (!broken) await c.query('ROLLBACK').catch(() => (broken = true));
        if (broken && !committing && !again) continue;
        throw e;
      } finally {
        release(broken);
      }
    }
  }

  private read<T>(fn: (r: StoreReads) => Promise<T>): Promise<T> {
    this.feed.read();
    // A read asks again once: the first try may have met a connection the database closed while idle.
    const again = (e: unknown) => (isUnavailable(e) ? this.guard(() => fn(this.poolReads)) : Promise.reject(e));
    // The usual case, the schema known to be there: the cache (or the pool) is asked at the end of the
    // event loop's turn, with every read of that turn, so a busy server writes that turn's answers in one
    // burst (end-of-turn.ts) — and asked after every change this server heard during that turn.
    if (this.present) return endOfTurn().then(() => fn(this.poolReads)).catch(again);
    const once = async () => fn((await this.ready(false)) ? this.poolReads : EMPTY);
    return this.guard(() => once().catch((e: unknown) => (isUnavailable(e) ? once() : Promise.reject(e))));
  }

  /** Database faults become UNAVAILABLE (never with the password); refusals and bugs pass through. */
  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (isUnavailable(e)) throw unavailable(this.location, e);
      throw e;
    }
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
      const at = await schemaVersion(this.pool);
      if (at === 0 && !create) return false;
      if (at !== SCHEMA_VERSION) await migrate(this.pool, this.location);
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
    return (sql.query as (...a: unknown[]) => unknown)(...args);
  };
  return { query } as Sql;
}

/** Waits for every statement sent; throws the first that failed (those after it failed because it did). */
async function firstFailure(sent: readonly Promise<unknown>[]): Promise<void> {
  const settled = await Promise.allSettled(sent);
  const failed = settled.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
}

export function createPostgresStore(url: string, opts?: PostgresStoreOptions): PostgresStore {
  return new PostgresStore(url, opts);
}
