// The tenant and its users as last read, for the reads every request makes
// (whoami, the settings a create checks). Kept only while this server hears
// every change (its LISTEN connection is up and answering its heartbeat), and
// dropped by each change that names them or says `all` — so a cached record
// is never older than a change this server has been told of. Keys are not
// kept here (the engine's verifier caches what verify needs of them), only
// each owner's active count (whoami asks it on every request), dropped by a
// change to that owner's keys (any owner's, when a change does not say whose
// keys it touched) and good only until the first of those keys expires, and
// pages of keys found (every GET /api/v1/api-keys asks one), dropped the same
// way: a page of one owner's keys by changes to that owner's keys, a page of
// everyone's by any change to keys. Pages that hang on the time (a status
// filter or order: keys expire) or on usage (the last-used order) are not kept.
// A change that only made new keys (`made`: every create) is not a reason to
// ask again: the new keys are added to the owner's count and first pages in
// creation order where that is provably the database's answer (made-keys.ts).
// Last, each key's last use and newest addresses (key pages and verify's
// answers show them): a usage flush that names the key (usedKeyIds) and says
// what it wrote of it (lastUsesWritten) is merged in (withWritten); one that
// names it without saying drops it, as does one that names no key or a change
// that names no record (an older server's flush), and any change to that key. Flushes are in the
// change count the heartbeat checks (migration 5), so one whose notification
// was lost, or usage written in plain SQL, drops everything within a second
// like any other lost change. Keys just made — by this server (neverUsed) or
// by another that answered nobody before its notification went
// (madeElsewhere) — are known never used without a read.
//
// A miss asked while the same question is already being read (the same
// page, count, record or keys' last uses: a turn's requests are asked
// together, end-of-turn.ts, and clients often ask alike) waits for that read
// instead of asking the database again, and takes its answer only as it would
// take a hit: when the read started while trusted, no change concerning it
// came before or while it ran, and it was kept; otherwise it reads on its own.
//
// What a hit hands out is the cached record itself, frozen, as the memory and
// JSON stores hand out the records they hold: nothing is copied per request,
// and GET /users/me's text cache (wire/me-text.ts) recognises an unchanged
// record by identity. A caller cannot change it (it throws); the first caller,
// whose read filled the cache, gets a copy of its own.

import type { ApiKey, Tenant, User } from '../../domain.js';
import type { FoundPage, KeyFind, KeyUsage, LastUseWritten, StoreChange } from '../boundary.js';
import { mergeAddresses } from '../usage-aggregates.js';
import { countedPerOwner } from './keys-table.js';
import { type ActiveCount, countWithMade, pageWithMade } from './made-keys.js';

// Pages kept at once; past this many, they start over (a page is at most a few hundred keys).
const MAX_PAGES = 2000;
// Heartbeats' worth of flushed keys remembered (madeElsewhere): at most one heartbeat is answered between this
// server's flush of a key and its hearing of the key's making, so three is one to spare.
const FLUSH_GENERATIONS = 3;
// Keys a generation remembers; past this many it stands for every key.
const MAX_FLUSHED = 10_000;
// Keys whose last use is kept at once; past this many, they start over.
const MAX_LAST_USES = 50_000;

export class RecordCache {
  private tenant?: { value: Tenant | undefined };
  private readonly users = new Map<string, User | undefined>();
  private everyone?: readonly User[];
  private readonly active = new Map<string, ActiveCount>();
  /**
   * By the question asked (without `now`); `owner` undefined: a page of
   * everyone's keys. `order`: for a first page in creation order, what
   * made-keys.ts needs to add new keys to it.
   */
  private readonly pages = new Map<string, { owner: string | undefined; page: FoundPage<ApiKey>; order?: { descending: boolean; limit: number } }>();
  /** null: never used. */
  private readonly lastUses = new Map<string, KeyUsage | null>();
  /** Keys whose last use a flush of this server (or any heard) wrote, newest heartbeat's first; 'any': it may have been any key's. */
  private flushed: (Set<string> | 'any')[] = [new Set()];
  /**
   * Reads under way, each with what it read: one that a change concerns
   * (the same test that drops what is kept, below) is not kept, since it
   * may have read before the change; changes about other records leave it be.
   */
  private readonly reading = new Set<Reading>();
  /** Reads under way that a miss for the same question may wait for (keep), by question. */
  private readonly sharing = new Map<string, { read: Reading; kept: Promise<{ value: unknown } | undefined> }>();

  constructor(private readonly trusted: () => boolean) {}

  changed(c: StoreChange): void {
    for (const r of this.reading) if (!r.spoiled && r.concerns(c)) r.spoiled = true;
    if (touchesTenant(c)) this.tenant = undefined;
    if (c.all) this.users.clear();
    for (const id of c.userIds ?? []) this.users.delete(id);
    if (touchesUsers(c)) this.everyone = undefined;
    if (touchesAllUsage(c)) this.lastUses.clear();
    this.rememberFlushed(c.usedKeyIds);
    for (const id of c.keyIds ?? []) this.lastUses.delete(id);
    // A flush that says what it wrote is merged into what is kept; one that does not drops it.
    const written = c.lastUsesWritten?.length === c.usedKeyIds?.length ? c.lastUsesWritten : undefined;
    c.usedKeyIds?.forEach((id, i) => {
      const kept = this.lastUses.get(id);
      if (written && kept !== undefined) this.lastUses.set(id, withWritten(id, kept, written[i]));
      else this.lastUses.delete(id);
    });
    if (c.all || (c.keyIds?.length && c.keyOwners === undefined)) {
      this.active.clear();
      this.pages.clear();
    } else if (c.keyOwners?.length) {
      const owners = new Set(c.keyOwners);
      const made = onlyMade(c);
      for (const owner of owners) {
        const kept = this.active.get(owner);
        const next = kept && made ? countWithMade(kept, made.filter((k) => k.owner === owner)) : undefined;
        if (next) this.active.set(owner, next);
        else this.active.delete(owner);
      }
      for (const [question, p] of this.pages) {
        if (p.owner !== undefined && !owners.has(p.owner)) continue;
        const next = p.order && made ? pageWithMade(p.page, p.order.descending, p.order.limit, made.filter((k) => p.owner === undefined || k.owner === p.owner)) : undefined;
        if (next) p.page = frozenPage(next);
        else this.pages.delete(question);
      }
    }
  }

  async pageOf(q: KeyFind, load: () => Promise<FoundPage<ApiKey>>): Promise<FoundPage<ApiKey>> {
    if (q.status !== undefined || q.order === 'status' || q.order === 'lastUsed') return load();
    const { now: _, ...asked } = q;
    const question = JSON.stringify(asked);
    const hit = this.pages.get(question);
    if (hit && this.trusted()) return hit.page;
    // A first page in creation order, its total from the per-owner counts: new keys can be added to
    // it — if it has rows (findKeys counts an empty page in a statement of its own, maybe another snapshot).
    const first = (q.order ?? 'created') === 'created' && countedPerOwner(q) && q.startingAfter === undefined && q.endingBefore === undefined && !q.offset;
    const order = first ? { descending: q.descending === true, limit: Math.max(0, Math.floor(q.limit)) } : undefined;
    return this.keep(
      `page ${question}`,
      load,
      (page) => {
        if (this.pages.size >= MAX_PAGES) this.pages.clear();
        this.pages.set(question, { owner: q.owner, page, order: page.data.length > 0 ? order : undefined });
      },
      (c) => touchesKeysOf(c, q.owner),
    );
  }

  /**
   * The owner's active count at `now` as kept, with the mark it goes with
   * and when it was counted (ActiveCount's `seen`); undefined where none is
   * kept, or it does not hold at `now`, or this server may not have heard
   * every change. For a create's guess only (expectations.ts): never an answer.
   */
  seenCount(owner: string, now: number): { n: number; at: number; changes: number } | undefined {
    const hit = this.active.get(owner);
    if (hit?.seen === undefined || !(now < hit.until) || !this.trusted()) return undefined;
    return { n: hit.n, at: hit.seen.at, changes: hit.seen.changes };
  }

  async activeKeysOf(owner: string, now: number, load: () => Promise<ActiveCount>): Promise<number> {
    const hit = this.active.get(owner);
    if (hit && now < hit.until && this.trusted()) return hit.n;
    const counted = await this.keep(`active ${owner}`, load, (v) => this.active.set(owner, v), (c) => touchesKeysOf(c, owner));
    // Another request's count (its read waited for), made a moment earlier, may have run out by this request's time.
    return now < counted.until ? counted.n : (await load()).n;
  }

  async lastUsesOf(keyIds: readonly string[], load: (keyIds: readonly string[]) => Promise<Map<string, KeyUsage>>): Promise<Map<string, KeyUsage>> {
    const out = new Map<string, KeyUsage>();
    const ask: string[] = [];
    const trusted = this.trusted();
    for (const id of keyIds) {
      const hit = trusted ? this.lastUses.get(id) : undefined;
      if (hit === undefined) ask.push(id);
      else if (hit !== null) out.set(id, hit);
    }
    if (ask.length === 0) return out;
    const loaded = await this.keep(
      `last uses ${ask.join(' ')}`,
      async () => [...(await load(ask))],
      (kept) => {
        if (this.lastUses.size + ask.length > MAX_LAST_USES) this.lastUses.clear();
        for (const id of ask) this.lastUses.set(id, null);
        for (const [id, u] of kept) this.lastUses.set(id, u);
      },
      (c) => touchesAllUsage(c) || [...(c.keyIds ?? []), ...(c.usedKeyIds ?? [])].some((id) => ask.includes(id)),
    );
    for (const [id, u] of loaded) out.set(id, u);
    return out;
  }

  /**
   * Keys this server has just made, before any token of theirs was handed
   * out: never used yet, until a flush names them. Only while this server
   * hears every change (otherwise such a flush could go unheard).
   */
  neverUsed(keyIds: readonly string[]): void {
    if (!this.trusted()) return;
    if (this.lastUses.size + keyIds.length > MAX_LAST_USES) this.lastUses.clear();
    for (const id of keyIds) this.lastUses.set(id, null);
  }

  /**
   * Keys another server made, heard before any other server's flush could
   * name them (changes.ts payload `u`: notifications arrive in the order
   * their transactions committed): never used, unless this server's own
   * flush named them — its commit's answer comes on another connection and
   * may be handled before the notification of the making arrives, though
   * never more than one heartbeat before (the heartbeat sent after that
   * answer brings every notification committed before it). A last use
   * already kept (read meanwhile) is left as it is. Only while this server
   * hears every change.
   */
  madeElsewhere(keyIds: readonly string[]): void {
    if (!this.trusted() || this.flushed.includes('any')) return;
    const unnamed = keyIds.filter((id) => !this.lastUses.has(id) && !this.flushed.some((g) => g !== 'any' && g.has(id)));
    this.neverUsed(unnamed);
  }

  /** A flush of this server that may have committed without its change being told (its connection lost): it may have named any key. */
  flushUnsure(): void {
    this.flushed[0] = 'any';
  }

  /** A heartbeat was answered: flushes older than FLUSH_GENERATIONS heartbeats can no longer come before a making heard now. */
  heartbeat(): void {
    this.flushed = [new Set(), ...this.flushed.slice(0, FLUSH_GENERATIONS - 1)];
  }

  private rememberFlushed(keyIds: readonly string[] | undefined): void {
    const now = this.flushed[0];
    if (!keyIds?.length || now === 'any') return;
    if (now.size + keyIds.length > MAX_FLUSHED) this.flushed[0] = 'any';
    else for (const id of keyIds) now.add(id);
  }

  async tenantOf(load: () => Promise<Tenant | undefined>): Promise<Tenant | undefined> {
    if (this.tenant && this.trusted()) return this.tenant.value;
    return this.keep('tenant', load, (v) => (this.tenant = { value: v }), touchesTenant);
  }

  async userOf(id: string, load: () => Promise<User | undefined>): Promise<User | undefined> {
    if (this.users.has(id) && this.trusted()) return this.users.get(id);
    return this.keep(`user ${id}`, load, (v) => this.users.set(id, v), (c) => c.all === true || (c.userIds?.includes(id) ?? false));
  }

  async usersOf(load: () => Promise<User[]>): Promise<User[]> {
    // Frozen: the boundary's type says User[], but no caller may change what a read hands out.
    if (this.everyone && this.trusted()) return this.everyone as User[];
    return this.keep('users', load, (v) => (this.everyone = v), touchesUsers);
  }

  /**
   * `load`'s answer, kept (`store`, frozen) when no change that `concerns` it
   * came while it was read; or the answer of the same `question` already
   * being read, when that one is kept. The first caller gets what `load`
   * gave; callers who waited for it get the kept, frozen copy, as a hit would.
   */
  private async keep<T>(question: string, load: () => Promise<T>, store: (v: T) => void, concerns: (c: StoreChange) => boolean): Promise<T> {
    const under = this.sharing.get(question);
    if (under && !under.read.spoiled && this.trusted()) {
      const kept = await under.kept;
      if (kept !== undefined && this.trusted()) return kept.value as T;
    }
    const read: Reading = { concerns, spoiled: false };
    const live = this.trusted();
    this.reading.add(read);
    let kept: { value: T } | undefined;
    let settle: ((k: { value: T } | undefined) => void) | undefined;
    const shared = live ? { read, kept: new Promise<{ value: T } | undefined>((r) => (settle = r)) } : undefined;
    if (shared) this.sharing.set(question, shared);
    try {
      const v = await load();
      if (live && this.trusted() && !read.spoiled) {
        kept = { value: frozenCopy(v) };
        store(kept.value);
      }
      return v;
    } finally {
      this.reading.delete(read);
      if (shared && this.sharing.get(question) === shared) this.sharing.delete(question);
      settle?.(kept);
    }
  }
}

interface Reading {
  concerns: (c: StoreChange) => boolean;
  spoiled: boolean;
}

// What each change concerns: what changed() drops for it, and whose reads under way keep() does not keep.
const touchesTenant = (c: StoreChange): boolean => c.all === true || c.tenant === true;
const touchesUsers = (c: StoreChange): boolean => c.all === true || (c.userIds?.length ?? 0) > 0;
/** Every key's last use: `all`, or a change that names no record and no used keys (a flush that does not name them). */
const touchesAllUsage = (c: StoreChange): boolean => c.all === true || (c.usedKeyIds === undefined && !(c.keyIds?.length || c.userIds?.length || c.tenant));
/** An owner's keys (`owner` undefined: anyone's): `all`, or keys whose owners the change names, or cannot name. */
function touchesKeysOf(c: StoreChange, owner: string | undefined): boolean {
  if (c.all) return true;
  if (!c.keyIds?.length) return false;
  return owner === undefined || c.keyOwners === undefined || c.keyOwners.includes(owner);
}

/**
 * A kept last use (null: never used) with what a flush wrote merged in: what
 * the store answers once that flush is in (usage-table.ts: the newest use,
 * the newest sighting of each address, the newest few of them). Merging
 * again what is already in changes nothing, so a flush heard after a read
 * that already saw it does no harm.
 */
function withWritten(keyId: string, kept: KeyUsage | null, w: LastUseWritten): KeyUsage {
  return frozenCopy({ keyId, uses: 0, lastUsed: Math.max(kept?.lastUsed ?? -Infinity, w.lastUsed), lastUsedFrom: mergeAddresses(kept?.lastUsedFrom ?? [], w.addresses) });
}

/** The change's new keys, when making them is all it did to keys (every key it names is one). */
function onlyMade(c: StoreChange): readonly ApiKey[] | undefined {
  const made = c.made;
  if (!made?.length || !c.keyIds) return undefined;
  const ids = new Set(made.map((k) => k.id));
  return c.keyIds.every((id) => ids.has(id)) ? made : undefined;
}

/** A page with new keys in it, frozen like every cached answer (its rows kept: unchanged records keep their identity). */
function frozenPage(page: FoundPage<ApiKey>): FoundPage<ApiKey> {
  return Object.freeze({ ...page, data: Object.freeze(page.data.map((k) => (Object.isFrozen(k) ? k : frozenCopy(k)))) as ApiKey[] });
}

/** A deep, frozen copy of plain JSON data, which every record is (it comes from jsonb). */
function frozenCopy<T>(v: T): T {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return Object.freeze(v.map(frozenCopy)) as T;
  const o: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) o[k] = frozenCopy(x);
  return Object.freeze(o) as T;
}
