// The change signal across servers. Every committed change sends a NOTIFY
// right behind its COMMIT, in a transaction of its own (so it is delivered
// once the change is visible); each server keeps one dedicated connection
// LISTENing. That connection is also the staleness guard: it answers a
// heartbeat every HEARTBEAT_MS, and PostgreSQL delivers pending
// notifications before any answer, so a server that has heard its heartbeat
// has heard every notification sent before it. When the heartbeat goes
// unanswered or the connection drops, the feed tells every listener `all`
// (drop what you cached) and keeps telling it until the connection is back,
// then once more for what was missed. When this process's event loop was
// held past the bound, listeners hear `all` once and a connection whose
// answer was waiting is kept (unconfirmedSince).
//
// A notification can also be lost while the connection stays up: the
// database restarting, or the writer's connection dropping, between a COMMIT
// and its NOTIFY; or a change made in plain SQL, which sends none. So the
// heartbeat also reads the database's count of committed changes (migration
// 3: bumped once by every transaction that writes the tenant, users or
// keys — or keys' last uses, migration 5 — in a slot per backend) and matches it, value by value, against the
// notifications heard, each naming the slot and value its transaction
// counted (change-count.ts). A change the count shows at one heartbeat whose notification has
// not come by the next is taken as lost: `all` — within two heartbeats, so
// staleness stays under 1 s.

import pg from 'pg';
import type { ApiKey } from '../../domain.js';
import type { ClockOffsetReading, LastUseWritten, StoreChange } from '../boundary.js';
import { mergeAddresses } from '../usage-aggregates.js';
import { ChangeSignal } from '../change-signal.js';
import { ChangeCount, type SlotCounts } from './change-count.js';
import { readClock } from './clock-offset.js';
import { SCHEMA, type Sql } from './sql.js';
import { type KeywardClientConfig, KeywardClient } from './keyward-client.js';

export const CHANNEL = 'keyward_changes';
/** How the listening connection shows in pg_stat_activity. */
export const LISTENER_NAME = 'keyward-listen';
const HEARTBEAT_MS = 300;
/**
 * Unconfirmed this long (since the last answered heartbeat was sent, or the
 * connection was made), the connection is taken as gone: a timer set for that
 * moment drops it (confirmedUntil), so staleness stays under 1 s with 300 ms
 * to spare for a late timer on a busy server. Waiting for the next beat to
 * notice instead dropped it only ~900 ms after, 100 ms from the bound; and a
 * timeout counted from the unanswered beat let a connection that died just
 * after an answer be trusted ~1.2 s (found by review).
 */
const UNCONFIRMED_LIMIT_MS = 1000 - HEARTBEAT_MS;
/**
 * That timer running more than this past its moment ran after the event loop
 * was held (a long synchronous task, a process the scheduler left waiting):
 * see unconfirmedSince. Leaves 200 ms of the second for the turn of the loop
 * in which a timer on time waits for the socket to be read.
 */
const HELD_MS = 100;
const RECONNECT_MS = 250;
/** Every this many answered heartbeats (3 s), the database's clock is read too (FeedHooks.clockRead). */
const CLOCK_EVERY = 10;
/** What each heartbeat asks: the count of committed changes (migration 3), summed over its slots. */
const COUNT_CHANGES = `SELECT slot, n::text AS n FROM ${SCHEMA}.change_count`;
/** Undefined table or schema: a database Keyward has not initialised (or migrated) yet has no count to read. */
const NO_COUNT_YET = new Set(['42P01', '3F000']);
// NOTIFY payloads are limited to 8000 bytes; past that a change names no key, only `all`.
const MAX_PAYLOAD = 7000;
// The last fields of a counted change's notification once the database has
// added its slot and count (announce; put_*_and_announce): `n`, perhaps `u`,
// then `s` and `v`, closing the payload. At its end, nothing nested can look
// like them (a nested object would close with its own brace before the
// last; a string's quotes are escaped).
const COUNTED_TAIL = /,"n":1(?:,"u":1)?,"s":(\d+),"v":(\d+)\}$/;

/** The session setting a transaction leaves behind only if it commits (announce). */
const COMMITTED = 'keyward.committed';

/** A change without its version: what a NOTIFY carries. */
export type Change = Omit<StoreChange, 'version'>;

/** A change as a notification carries it: what a flush wrote packed (packed), beside usedKeyIds. */
type WireChange = Omit<Change, 'lastUsesWritten'> & { w?: (string | number)[][] };

interface Payload {
  /** The server that made the change: it has told its own listeners already. */
  o: string;
  c: WireChange;
  /** Set when the change wrote the tenant, users or keys: the database's change count moved for it (see ChangeCount). */
  n?: 1;
  /** With `n`: the slot its transaction counted in, and the count it left there (added by the database, see announce). */
  s?: number;
  v?: number;
  /**
   * Its writer handed nothing of the change out (no token of the keys it
   * made) before this notification committed (announce's `first`): any
   * flush using one of those keys commits after it, and notifications are
   * delivered in the order their transactions committed, so a listener hears
   * this before any other server's flush that names them.
   */
  u?: 1;
}

/** Whether the writing transaction of `change` bumped the change count: it wrote the tenant, users or keys (migration 3's triggers), or keys' last uses (migration 5's). */
function counted(change: Change): boolean {
  return Boolean(change.tenant || change.userIds?.length || change.keyIds?.length || change.usedKeyIds?.length);
}

/**
 * The text a change's notification carries: who made it, what it touched,
 * and whether its transaction moved the change count (then the database adds
 * the slot and the count it left there, as the payload's last fields). Past
 * what a payload may hold, it says less (see below). `first`: see announce.
 */
export function notificationOf(origin: string, change: Change, { first = false } = {}): { payload: string; counted: boolean } {
  const n = { ...(counted(change) ? ({ n: 1 } as const) : {}), ...(first ? ({ u: 1 } as const) : {}) };
  const { lastUsesWritten, ...rest } = change;
  const wire: WireChange = lastUsesWritten ? { ...rest, w: packed(lastUsesWritten) } : rest;
  let payload = JSON.stringify({ o: origin, c: wire, ...n } satisfies Payload);
  // Too long: first without the new keys' records (listeners ask again), then without what a flush
  // wrote (listeners read the keys' last uses again), then without the used keys' names (a flush
  // naming none: every last use is read again), then as `all`.
  if (payload.length > MAX_PAYLOAD && wire.made) {
    const { made: _, ...named } = wire;
    payload = JSON.stringify({ o: origin, c: named, ...n } satisfies Payload);
  }
  if (payload.length > MAX_PAYLOAD && wire.w) {
    const { made: _, w: __, ...named } = wire;
    payload = JSON.stringify({ o: origin, c: named, ...n } satisfies Payload);
  }
  if (payload.length > MAX_PAYLOAD && wire.usedKeyIds) {
    const { made: _, w: __, usedKeyIds: ___, ...named } = wire;
    payload = JSON.stringify({ o: origin, c: named, ...n } satisfies Payload);
  }
  if (payload.length > MAX_PAYLOAD) payload = JSON.stringify({ o: origin, c: { all: true }, ...n } satisfies Payload);
  return { payload, counted: 'n' in n };
}

/**
 * The NOTIFY for one change, sent right behind the COMMIT that makes it (see
 * store.ts inTransaction: both leave in one write). Not inside that
 * transaction: PostgreSQL holds its notification lock from a notifying
 * transaction's commit until that commit is on disk, so every writing
 * transaction of every server would commit one at a time, each waiting for
 * its own fsync. Here the NOTIFY is a transaction of its own whose commit
 * does not wait for the disk (a notification has nothing to keep after a
 * crash), so the lock is held for microseconds and concurrent commits share
 * their WAL flushes.
 *
 * Sent only if that COMMIT committed: a transaction whose statement failed
 * (a pipelined write refused, a create's expectation no longer holding —
 * expectations.ts) ends with a COMMIT that rolls back, and a notification
 * saying "counted" of a change never counted would stand in for a lost one
 * (change-count.ts). The transaction sets `mark` (beginMarked) as a
 * session setting, which its rollback undoes; the NOTIFY goes only where it
 * is still set.
 *
 * `first`: the caller promises to hand nothing of the change out until this
 * has answered, or until the backend it went to is gone (payload `u`).
 */
export async function announce(sql: Sql, origin: string, change: Change, mark: string, { first = false } = {}): Promise<void> {
  const note = notificationOf(origin, change, { first });
  // A counted change's notification names its backend's slot and the count it left there (change-count.ts),
  // read right behind its COMMIT on the same backend: the payload's last brace gives way to them
  // (as migration 9's put_counted_keys_and_announce does for a create).
  const named = note.counted ? `left($2, -1) || ',"s":' || s.slot || ',"v":' || coalesce((SELECT c.n FROM ${SCHEMA}.change_count c WHERE c.slot = s.slot), 0) || '}'` : '$2';
  await sql.query(
    `SELECT set_config('synchronous_commit', 'off', true), pg_notify($1, ${named}) FROM (SELECT pg_backend_pid() % 1024 AS slot) s WHERE current_setting('${COMMITTED}', true) = $3`,
    [CHANNEL, note.payload, mark],
  );
}

/**
 * BEGIN, and `mark` set as the session's, which stays set only if the
 * transaction commits (a setting changed in a transaction is undone by its
 * rollback, wherever in it the change was made). One message with BEGIN, so
 * it costs the transaction no statement of its own: `mark` is hex, written
 * into the text (a message of several statements takes no parameters).
 */
export async function beginMarked(sql: Sql, mark: string): Promise<void> {
  if (!/^[0-9a-f]+$/.test(mark)) throw new Error('A transaction mark is hexadecimal.');
  await sql.query(`BEGIN; SELECT set_config('${COMMITTED}', '${mark}', false)`);
}

/**
 * What a flush wrote of each key's last use, as a notification carries it:
 * per key, in usedKeyIds' order, [lastUsed, address, lastSeen, …] with only
 * its newest addresses (mergeAddresses keeps no more, so merging these gives
 * what merging them all would).
 */
function packed(written: readonly LastUseWritten[]): (string | number)[][] {
  return written.map((w) => [w.lastUsed, ...mergeAddresses(w.addresses, []).flatMap((a) => [a.address, a.lastSeen])]);
}

/** What packed made, for `n` keys; undefined for anything else (listeners then read those last uses again). */
function unpacked(w: unknown, n: number): LastUseWritten[] | undefined {
  if (!Array.isArray(w) || w.length !== n) return undefined;
  const out: LastUseWritten[] = [];
  for (const e of w as unknown[]) {
    if (!Array.isArray(e) || e.length % 2 !== 1 || !Number.isFinite(e[0])) return undefined;
    const addresses: LastUseWritten['addresses'] = [];
    for (let i = 1; i < e.length; i += 2) {
      if (typeof e[i] !== 'string' || !Number.isFinite(e[i + 1])) return undefined;
      addresses.push({ address: e[i] as string, lastSeen: e[i + 1] as number });
    }
    out.push({ lastUsed: e[0] as number, addresses });
  }
  return out;
}

/** Only the fields a change may carry, whatever arrived. */
function changeFrom(c: unknown): Change {
  const o = (c ?? {}) as Record<string, unknown>;
  if (o.all === true) return { all: true };
  const ids = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : undefined);
  const out: { keyIds?: string[]; keyOwners?: string[]; made?: ApiKey[]; userIds?: string[]; tenant?: boolean; usedKeyIds?: string[]; lastUsesWritten?: LastUseWritten[] } = {};
  const keyIds = ids(o.keyIds);
  const keyOwners = ids(o.keyOwners);
  const userIds = ids(o.userIds);
  // A usage flush's keys, even none (a flush of events only): without the list, any key's usage may have changed.
  const usedKeyIds = ids(o.usedKeyIds);
  if (usedKeyIds) out.usedKeyIds = usedKeyIds;
  // What it wrote of each, only beside a list that came whole (the two go in step).
  const written = usedKeyIds?.length && (o.usedKeyIds as unknown[]).length === usedKeyIds.length ? unpacked(o.w, usedKeyIds.length) : undefined;
  if (written) out.lastUsesWritten = written;
  if (keyIds?.length) out.keyIds = keyIds;
  // Whose keys they are, only beside the keys (and only if it came as a list: otherwise, anyone's).
  if (keyIds?.length && keyOwners) out.keyOwners = keyOwners;
  // New keys, only beside the keys that name them, and only whole records (else listeners ask again).
  const made = Array.isArray(o.made) && o.made.every(isKeyRecord) ? o.made : undefined;
  if (keyIds?.length && made?.length && made.every((k) => keyIds.includes(k.id))) out.made = made;
  if (userIds?.length) out.userIds = userIds;
  if (o.tenant === true) out.tenant = true;
  return out;
}

/** Enough of a key record for a cache to place and count it (made-keys.ts). */
function isKeyRecord(k: unknown): k is ApiKey {
  const r = k as Record<string, unknown> | null;
  const text = (v: unknown) => typeof v === 'string';
  const time = (v: unknown) => text(v) && !Number.isNaN(Date.parse(v as string));
  return typeof r === 'object' && r !== null && text(r.id) && text(r.owner) && time(r.created) && time(r.expiry) && (r.revokedAt === undefined || time(r.revokedAt));
}

/** The count of committed changes (migration 3); undefined where Keyward's schema is not there yet. */
async function countOf(c: pg.Client): Promise<SlotCounts | undefined> {
  try {
    return new Map((await c.query<{ slot: number; n: string }>(COUNT_CHANGES)).rows.map((r) => [r.slot, Number(r.n)]));
  } catch (e) {
    if (NO_COUNT_YET.has((e as { code?: string })?.code ?? '')) return undefined;
    throw e;
  }
}

function socketOf(c: pg.Client): { ref?: () => void; unref?: () => void } | undefined {
  return (c as unknown as { connection?: { stream?: { ref?: () => void; unref?: () => void } } }).connection?.stream;
}

/** What the store's caches hear from the feed beside the changes themselves. */
export interface FeedHooks {
  /** A heartbeat was answered on the listening connection: every notification committed before it was sent has been heard. */
  heartbeat?(): void;
  /** Keys another server made, heard before any other server's flush could name them (payload `u`). */
  madeUnused?(keyIds: readonly string[]): void;
  /** The database's clock read against this process's on the listening connection (clock-offset.ts). */
  clockRead?(reading: ClockOffsetReading): void;
}

export class ChangeFeed {
  private readonly signal = new ChangeSignal();
  private client?: pg.Client;
  private connected = false;
  private closed = false;
  private heartbeat?: NodeJS.Timeout;
  private retry?: NodeJS.Timeout;
  private unconfirmed?: NodeJS.Timeout;
  private awaiting?: number;
  /** The heartbeat still awaited when a held loop gave the connection more time (unconfirmedSince): it gets that once. */
  private heldFor?: number;
  /** When the last answered heartbeat was sent (or the connection made): what was heard holds as of then. */
  private confirmedAt = 0;
  private readonly count = new ChangeCount();
  /** Other servers' changes heard (the metrics' keyward_changes_heard_total). */
  private heardOthers = 0;
  /** Heartbeats answered (CLOCK_EVERY). */
  private beats = 0;
  /** How this server's own notifications begin (notificationOf writes `o` first). */
  private readonly ownPrefix: string;
  // A record was read while no LISTEN connection was up: a cache may hold what others changed since.
  private readUnwatched = false;

  constructor(
    private readonly config: KeywardClientConfig,
    private readonly origin: string,
    private readonly hooks: FeedHooks = {},
  ) {
    this.ownPrefix = `{"o":${JSON.stringify(origin)},`;
  }

  get version(): number {
    return this.signal.version();
  }

  /** True while the LISTEN connection is up and answering. */
  get live(): boolean {
    return this.connected;
  }

  /**
   * For a server's metrics (StoreGauges.feed), once listening started (a
   * server listens from its first cached key on: before, nothing it answers
   * rests on what it heard): the staleness bound, as of when what was heard
   * was last confirmed.
   */
  get gauges(): { live: boolean; confirmedAt: number; heard: number } | undefined {
    return this.heartbeat === undefined ? undefined : { live: this.connected, confirmedAt: this.confirmedAt, heard: this.heardOthers };
  }

  subscribe(listener: (change: StoreChange) => void): () => void {
    const off = this.signal.onChange(listener);
    this.start();
    return off;
  }

  /** Hears every change without starting to listen (the store's own caches). */
  watch(listener: (change: StoreChange) => void): () => void {
    return this.signal.onChange(listener);
  }

  /** Called on every read of records: what is read while not listening cannot be trusted after connecting. */
  read(): void {
    if (!this.connected) this.readUnwatched = true;
  }

  /** A change this process made or heard of. */
  changed(change: Change): void {
    this.signal.changed(change);
  }

  /** Starts listening (idempotent); until connected, listeners hear `all` on every heartbeat. */
  start(): void {
    if (this.closed || this.heartbeat) return;
    this.heartbeat = setInterval(() => this.beat(), HEARTBEAT_MS);
    this.heartbeat.unref();
    void this.connect();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.heartbeat);
    clearTimeout(this.retry);
    clearTimeout(this.unconfirmed);
    // A heartbeat answered from now on sets no timer (confirmedUntil).
    this.awaiting = undefined;
    const c = this.client;
    this.client = undefined;
    this.connected = false;
    if (!c) return;
    // Held again while it says goodbye, or the process may end before the socket closes.
    socketOf(c)?.ref?.();
    await c.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.closed || this.client) return;
    const c = new KeywardClient({ ...this.config, keepAlive: true, connectionTimeoutMillis: this.config.connectTimeoutMs ?? 2000, application_name: LISTENER_NAME });
    this.client = c;
    c.on('error', () => this.drop(c));
    c.on('end', () => this.drop(c));
    c.on('notification', (n) => this.heard(n.payload));
    let count: SlotCounts | undefined;
    try {
      await c.connect();
      await c.query(`LISTEN ${CHANNEL}`);
      // Matching starts here, before anything is cached on this connection's word:
      // a change counted after this is one whose notification must come.
      count = await countOf(c);
    } catch {
      this.drop(c);
      return;
    }
    if (this.client !== c) return;
    // Listening must not keep a finished command alive; the store's close() ends it anyway.
    socketOf(c)?.unref?.();
    this.connected = true;
    this.awaiting = undefined;
    this.confirmedUntil(c, Date.now());
    this.count.reset();
    if (count !== undefined) this.count.read(count);
    // Whatever changed while we were not listening is unknown: say so once,
    // if anything may have been cached from reads made meanwhile.
    if (this.readUnwatched) this.changed({ all: true });
    this.readUnwatched = false;
  }

  private heard(payload: string | undefined): void {
    // Our own change, counted: the count it moved is all there is to hear
    // (our listeners heard the change when it was made), read from the
    // payload's last fields without parsing the keys it names. Anything
    // else of ours is parsed as before.
    if (payload?.startsWith(this.ownPrefix)) {
      const tail = COUNTED_TAIL.exec(payload.slice(-96));
      if (tail) {
        this.count.heardOne(Number(tail[1]), Number(tail[2]));
        return;
      }
    }
    let p: Partial<Payload>;
    try {
      p = JSON.parse(payload ?? '') as Partial<Payload>;
    } catch {
      p = { c: { all: true } };
    }
    // Our own changes too: the count moved for them as well.
    if (p.n === 1 && typeof p.s === 'number' && typeof p.v === 'number') this.count.heardOne(p.s, p.v);
    if (p.o === this.origin) return;
    this.heardOthers++;
    const change = changeFrom(p.c);
    this.changed(change);
    if (p.u === 1 && change.made) this.hooks.madeUnused?.(change.made.map((k) => k.id));
  }

  private beat(): void {
    const c = this.client;
    if (!this.connected || !c) {
      // Not listening: nothing cached may be trusted for longer than a heartbeat.
      if (this.signal.listening) this.changed({ all: true });
      return;
    }
    // Still awaited: the timer confirmedUntil set judges it.
    if (this.awaiting !== undefined) return;
    const sent = Date.now();
    this.awaiting = sent;
    countOf(c).then(
      (count) => {
        if (this.awaiting === sent) {
          this.awaiting = undefined;
          // Not back to before a held loop's `all` (unconfirmedSince): what is cached now was read since.
          if (!(sent < this.confirmedAt && this.heldFor === sent)) this.confirmedUntil(c, sent);
        }
        if (this.client !== c || count === undefined) return;
        if (this.count.read(count)) this.changed({ all: true });
        this.hooks.heartbeat?.();
        // A failed reading tells nothing: the heartbeats judge the connection.
        if (this.hooks.clockRead && ++this.beats % CLOCK_EVERY === 0) readClock(c).then(this.hooks.clockRead, () => undefined);
        // Answered a beat or more after it was asked (a slow database, a held loop): the interval's beat
        // meanwhile found it awaited and asked nothing, and the next may come after the timer judging
        // this answer is due (700 ms after it was asked): ask again now.
        if (this.client === c && this.awaiting === undefined && Date.now() - sent >= HEARTBEAT_MS) this.beat();
      },
      () => this.drop(c),
    );
  }

  /**
   * What was heard on `c` holds as of `at`; unless a later heartbeat is
   * answered, `c` is judged UNCONFIRMED_LIMIT_MS after it (unconfirmedSince).
   */
  private confirmedUntil(c: pg.Client, at: number): void {
    this.confirmedAt = at;
    clearTimeout(this.unconfirmed);
    this.unconfirmed = setTimeout(() => this.unconfirmedSince(c, at), Math.max(0, at + UNCONFIRMED_LIMIT_MS - Date.now()));
    this.unconfirmed.unref();
  }

  /**
   * No heartbeat answered on `c` since the one sent at `at`, as its timer
   * runs. The timers of a turn of the event loop run before its sockets are
   * read, so an answer may be waiting in the socket all the same: the loop
   * was held while it came (found by a session-9 test: a loop that did not
   * turn for 877 ms, the answer waiting, reconnected).
   *
   * - On time (at most HELD_MS late): the connection is dropped at the end
   *   of this turn (setImmediate) unless an answer is read in it. What was
   *   heard is still what holds until then, 1 s after `at` at the earliest.
   * - Late: the loop was held, and requests that waited through it may be
   *   answered in this turn before the socket is read, from what was heard
   *   as of `at` — past SPEC §4's second, or near it. A waiting answer cannot
   *   help them (it vouches for when its heartbeat was sent, before the
   *   hold), so listeners hear `all` now, before any of them is answered.
   *   Then nothing cached is older than now, as on a new connection, and
   *   `c` gets UNCONFIRMED_LIMIT_MS from now to answer, kept instead of
   *   made again (a reconnect left nothing cached for a quarter of a second
   *   and more, and said `all` again once back). Once per heartbeat: one
   *   still unanswered at the next judgement drops `c` then, held or not —
   *   its answer, read in this turn, would not confirm `c` (beat), and
   *   dropped at the end of the turn, what the requests that waited through
   *   a second hold are answered from was read as long before.
   */
  private unconfirmedSince(c: pg.Client, at: number): void {
    if (this.client !== c || this.confirmedAt !== at) return;
    if (this.awaiting !== undefined && this.heldFor === this.awaiting) {
      this.drop(c);
      return;
    }
    const now = Date.now();
    if (now - (at + UNCONFIRMED_LIMIT_MS) <= HELD_MS) {
      setImmediate(() => {
        if (this.client === c && this.confirmedAt === at) this.drop(c);
      });
      return;
    }
    this.heldFor = this.awaiting;
    this.changed({ all: true });
    this.confirmedUntil(c, now);
  }

  private drop(c: pg.Client): void {
    if (this.client !== c) return;
    clearTimeout(this.unconfirmed);
    this.client = undefined;
    const was = this.connected;
    this.connected = false;
    this.awaiting = undefined;
    this.count.reset();
    c.removeAllListeners('notification');
    c.on('error', () => undefined);
    void c.end().catch(() => undefined);
    if (was) this.changed({ all: true });
    if (!this.closed) {
      clearTimeout(this.retry);
      this.retry = setTimeout(() => void this.connect(), RECONNECT_MS);
      this.retry.unref();
    }
  }
}
