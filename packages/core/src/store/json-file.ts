// The first-format JSON store behind the store boundary v2, kept so every
// store of today works while the journal store (store/json/store.ts) takes
// over: one JSON document on disk, rewritten whole on each change (O(keys)),
// events and usage counts in JSON Lines files beside it (read whole: O(events)).
// The document is read and written through lowdb's API with an adapter of
// our own. lowdb's stock JSONFile adapter is not safe across processes (one
// shared temp name, no lock, no fsync: two writers lose writes and can leave
// a broken file), so this adapter writes a private temporary file, fsyncs it
// and renames it over the store, and every change runs under a
// cross-process lock after re-reading what others wrote.

import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { LowSync, type SyncAdapter } from 'lowdb';
import type { KeywardEvent, StoreDocument } from '../domain.js';
import { KeywardError } from '../refusal.js';
import type { EventFind, EventPage, InitialState, KeyUsage, Store, StoreChange, Transaction, UsageCount } from './boundary.js';
import { ChangeSignal, changeOf } from './change-signal.js';
import { EventLog, JsonLinesLog } from './event-log.js';
import { findInLog } from './event-find.js';
import { acquireLock } from './lock.js';
import { isRunning } from './json/files.js';
import { StateReads, StateTransaction } from './state-transaction.js';
import { type StoreOp, TenantState } from './tenant-state.js';
import { UsageAggregates } from './usage-aggregates.js';

interface FileIdentity {
  ino: bigint;
  size: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

// Nanosecond times: an inode reused by the next rename, at the same size,
// within one coarse millisecond, was taken for the cached file (a revoke
// unseen by other processes for seconds).
const identity = (st: FileIdentity): FileIdentity => ({ ino: st.ino, size: st.size, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs });
const sameFile = (a: FileIdentity | undefined, b: FileIdentity) => !!a && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;

function isStoreDocument(x: unknown): x is StoreDocument {
  const d = x as StoreDocument;
  return !!d && typeof d === 'object' && d.version === 1 && typeof d.tenant === 'object' && !!d.tenant && typeof d.users === 'object' && !!d.users && typeof d.keys === 'object' && !!d.keys;
}

let tmpCounter = 0;

/** lowdb adapter: reads only when the file changed, writes atomically and durably. */
class AtomicJsonFile implements SyncAdapter<StoreDocument | null> {
  private known?: FileIdentity;
  private cached: StoreDocument | null = null;

  constructor(readonly path: string) {}

  read(): StoreDocument | null {
    let st;
    try {
      st = statSync(this.path, { bigint: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        this.known = undefined;
        this.cached = null;
        return null;
      }
      throw e;
    }
    if (this.cached && sameFile(this.known, st)) return this.cached;
    const text = readFileSync(this.path, 'utf8');
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      throw new KeywardError('STORE_CORRUPT', `The store file ${this.path} is not valid JSON (${(e as Error).message}); it was left untouched. Restore it from a backup or point --store elsewhere.`);
    }
    if (!isStoreDocument(doc)) {
      throw new KeywardError('STORE_CORRUPT', `The store file ${this.path} is not a Keyward store; it was left untouched.`);
    }
    this.cached = doc;
    this.known = identity(st);
    return doc;
  }

  write(doc: StoreDocument | null): void {
    if (!doc) return; // nothing to write: the store is never emptied through lowdb
    const text = JSON.stringify(doc);
    const tmp = `${this.path}.${process.pid}.${++tmpCounter}.tmp`;
    const bytes = Buffer.from(text);
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      // A short write (a nearly full disk) is a failure, never a cut-off store.
      let written = 0;
      while (written < bytes.length) {
        const n = writeSync(fd, bytes, written, bytes.length - written);
        if (n <= 0) throw Object.assign(new Error('short write'), { code: 'ENOSPC' });
        written += n;
      }
      fsyncSync(fd);
    } catch (e) {
      closeSync(fd);
      unlinkSync(tmp);
      throw e;
    }
    closeSync(fd);
    // The data is on disk before the rename, so after a crash or power cut the
    // store is the old document or the new one, never a broken one. The
    // directory is not fsynced: on a power cut (not a process crash) the
    // rename may be undone by up to one journal commit, a cost the issue's
    // budget for a write (≤ 2× a bare rewrite) does not leave room for.
    renameSync(tmp, this.path);
    const st = statSync(this.path, { bigint: true });
    this.cached = doc;
    this.known = identity(st);
  }

  /** Forgets the cached document, so the next read comes from disk. */
  forget(): void {
    this.cached = null;
    this.known = undefined;
  }
}

export interface JsonFileStoreOptions {
  /** How often this process looks for other processes' changes while something listens for changes. */
  watchMs?: number;
}

export function eventLogPathFor(storePath: string): string {
  return storePath.replace(/\.json$/i, '') + '.events.jsonl';
}

export function usageLogPathFor(storePath: string): string {
  return storePath.replace(/\.json$/i, '') + '.usage.jsonl';
}

/** A document with a transaction's writes applied; records are shared, the maps copied (O(keys): this store is the first format). */
function applied(doc: StoreDocument, ops: readonly StoreOp[]): StoreDocument {
  const next: StoreDocument = { ...doc, users: { ...doc.users }, keys: { ...doc.keys } };
  for (const o of ops) {
    if (o.op === 'putTenant') next.tenant = o.tenant;
    else if (o.op === 'putUser') next.users[o.user.id] = o.user;
    else if (o.op === 'deleteUser') delete next.users[o.id];
    else if (o.op === 'putKey') next.keys[o.key.id] = o.key;
    else delete next.keys[o.id];
  }
  return next;
}

const NO_TENANT = new TenantState();

/**
 * The store boundary v2 over the first format: the whole document rewritten
 * on each change and events in a JSON Lines log, so a write costs O(keys).
 * It keeps every store of today working while the journal store is built;
 * the state, cursors and aggregates are the shared in-memory ones.
 */
export class JsonFileStore extends StateReads implements Store {
  private readonly adapter: AtomicJsonFile;
  private readonly db: LowSync<StoreDocument | null>;
  private readonly log: EventLog;
  private readonly usageLog: JsonLinesLog<UsageCount>;
  private readonly lockPath: string;
  private readonly watchMs: number;
  private readonly signal = new ChangeSignal();
  private cached?: { doc: StoreDocument; state: TenantState };
  private usage = { lines: undefined as readonly UsageCount[] | undefined, folded: 0, aggregates: new UsageAggregates() };
  private eventIndex = { events: undefined as readonly KeywardEvent[] | undefined, indexed: 0, map: new Map<string, number>() };
  private watcher?: NodeJS.Timeout;
  private swept = false;
  // Transactions of this process queue here before taking the file lock.
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly location: string,
    opts: JsonFileStoreOptions = {},
  ) {
    super();
    this.adapter = new AtomicJsonFile(location);
    this.db = new LowSync<StoreDocument | null>(this.adapter, null);
    this.log = new EventLog(eventLogPathFor(location));
    this.usageLog = new JsonLinesLog<UsageCount>(usageLogPathFor(location));
    this.lockPath = location + '.lock';
    this.watchMs = opts.watchMs ?? 50;
  }

  /** The state of the document on disk, rebuilt when another process replaced it. */
  protected state(): TenantState {
    this.db.read();
    const doc = this.db.data;
    if (!doc) return NO_TENANT;
    if (this.cached?.doc !== doc) {
      const had = this.cached !== undefined;
      this.cached = { doc, state: TenantState.fromDocument(doc) };
      if (had) this.signal.changed({ all: true });
    }
    return this.cached.state;
  }

  protected lastUsedSource(): UsageAggregates {
    const lines = this.usageLog.all();
    const u = this.usage;
    if (u.lines !== lines || lines.length < u.folded) this.usage = { lines, folded: 0, aggregates: new UsageAggregates() };
    if (this.usage.folded < lines.length) {
      this.usage.aggregates.add(lines.slice(this.usage.folded));
      this.usage.folded = lines.length;
    }
    return this.usage.aggregates;
  }

  async create(init: InitialState): Promise<boolean> {
    mkdirSync(dirname(this.location), { recursive: true, mode: 0o700 });
    return this.exclusive(() => {
      if (existsSync(this.location)) return false;
      const doc: StoreDocument = { version: 1, tenant: structuredClone(init.tenant), users: Object.fromEntries(init.users.map((u) => [u.id, structuredClone(u)])), keys: {} };
      this.write(doc);
      this.log.append(init.events);
      this.signal.changed({ tenant: true, userIds: init.users.map((u) => u.id) });
      return true;
    });
  }

  transact<T>(fn: (tx: Transaction) => Promise<T> | T): Promise<T> {
    return this.exclusive(async () => {
      const state = this.state();
      if (!state.tenant || !this.cached) throw new KeywardError('UNAVAILABLE', `There is no Keyward store at ${this.location}; run \`keyward init\` to create one.`);
      const tx = new StateTransaction(state, this.lastUsedSource());
      const result = await fn(tx);
      if (tx.ops.length === 0 && tx.events.length === 0) return result;
      let touched = { tenant: false, userIds: [] as string[], keyIds: [] as string[] };
      if (tx.ops.length > 0) {
        const doc = applied(this.cached.doc, tx.ops);
        this.write(doc);
        touched = state.apply(tx.ops);
        this.cached = { doc, state };
      }
      this.log.append(tx.events);
      this.signal.changed(changeOf(touched));
      return result;
    });
  }

  append(events: readonly KeywardEvent[]): Promise<void> {
    if (events.length === 0) return Promise.resolve();
    return this.exclusive(() => {
      this.log.append(events);
      this.signal.changed({});
    });
  }

  async findEvents(q: EventFind): Promise<EventPage> {
    const events = this.log.all();
    const ix = this.eventIndex;
    if (ix.events !== events || events.length < ix.indexed) this.eventIndex = { events, indexed: 0, map: new Map() };
    for (let i = this.eventIndex.indexed; i < events.length; i++) this.eventIndex.map.set(events[i].id, i);
    this.eventIndex.indexed = events.length;
    return findInLog(events, q, (id) => this.eventIndex.map.get(id));
  }

  recordUsage(counts: readonly UsageCount[], events: readonly KeywardEvent[]): Promise<void> {
    if (counts.length === 0 && events.length === 0) return Promise.resolve();
    return this.exclusive(() => {
      this.usageLog.append(counts);
      this.log.append(events);
      this.signal.changed({});
    });
  }

  async usageSince(since: number, keyIds?: readonly string[]): Promise<KeyUsage[]> {
    return this.lastUsedSource().since(since, keyIds);
  }

  async lastUsedOf(keyIds: readonly string[]): Promise<Map<string, KeyUsage>> {
    return this.lastUsedSource().lastUsedOf(keyIds);
  }

  /** Rewrites the logs without what is older than `before` — only when something is (the log is in time order, near enough). */
  removeBefore(before: number): Promise<void> {
    const iso = new Date(before).toISOString();
    const minute = Math.floor(before / 60_000);
    return this.exclusive(() => {
      const events = this.log.all();
      if (events.length > 0 && events[0].eventTime < iso) this.log.rewrite(events.filter((e) => e.eventTime >= iso));
      const counts = this.usageLog.all();
      if (counts.length > 0 && counts[0].minute < minute) this.usageLog.rewrite(counts.filter((c) => c.minute >= minute));
      this.signal.changed({});
    });
  }

  version(): number {
    return this.signal.version();
  }

  onChange(listener: (change: StoreChange) => void): () => void {
    const off = this.signal.onChange(listener);
    // Other processes' changes are noticed by looking at the file while anyone listens.
    if (!this.watcher && this.watchMs > 0) {
      this.watcher = setInterval(() => {
        if (!this.signal.listening) return;
        try {
          this.state();
        } catch {
          // a store that does not parse now is reported by the next read
        }
      }, this.watchMs);
      this.watcher.unref();
    }
    return off;
  }

  async close(): Promise<void> {
    if (this.watcher) clearInterval(this.watcher);
    this.watcher = undefined;
    await this.queue;
  }

  /** Writes the document durably; a disk that refuses (ENOSPC, EIO, a short write) fails the change and leaves the file as it was. */
  private write(doc: StoreDocument): void {
    this.db.data = doc;
    try {
      this.db.write();
    } catch (e) {
      this.adapter.forget();
      this.db.data = null;
      this.cached = undefined;
      if (e instanceof KeywardError) throw e;
      throw new KeywardError('UNAVAILABLE', `Could not write the store ${this.location} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); nothing was changed.`);
    }
  }

  private exclusive<T>(fn: () => Promise<T> | T): Promise<T> {
    const run = this.queue.then(async () => {
      const release = await acquireLock(this.lockPath);
      try {
        if (!this.swept) {
          this.swept = true;
          removeDeadWritersLeftovers(this.location);
        }
        return await fn();
      } finally {
        release();
      }
    });
    this.queue = run.catch(() => undefined);
    return run;
  }
}

/**
 * A writer killed between writing its temporary file and renaming it leaves
 * `<store>.<pid>.<n>.tmp` behind. Once per process, under the lock, those of
 * processes that no longer run are removed.
 */
function removeDeadWritersLeftovers(storePath: string): void {
  const dir = dirname(storePath);
  const prefix = basename(storePath) + '.';
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith('.tmp')) continue;
    const pid = Number(name.slice(prefix.length).split('.')[0]);
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || isRunning(pid)) continue;
    try {
      unlinkSync(join(dir, name));
    } catch {
      /* removed by another process meanwhile */
    }
  }
}

export function createJsonFileStore(path: string, opts?: JsonFileStoreOptions): Store {
  return new JsonFileStore(path, opts);
}
