// The embedded store: one JSON document on disk, read and written through
// lowdb's API with an adapter of our own. lowdb's stock JSONFile adapter is
// not safe across processes (one shared temp name, no lock, no fsync: two
// writers lose writes and can leave a broken file), so this adapter writes a
// private temporary file, fsyncs it and renames it over the store, and every
// change runs under a cross-process lock after re-reading what others wrote.

import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { LowSync, type SyncAdapter } from 'lowdb';
import type { KeywardEvent, StoreDocument } from '../domain.js';
import { KeywardError } from '../refusal.js';
import { EventLog } from './event-log.js';
import { acquireLock } from './lock.js';
import { isRunning } from './json/files.js';
import type { Store, Transaction } from './types.js';

interface FileIdentity {
  ino: number;
  size: number;
  mtimeMs: number;
}

const sameFile = (a: FileIdentity | undefined, b: FileIdentity) => !!a && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs;

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
      st = statSync(this.path);
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
    this.known = { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs };
    return doc;
  }

  write(doc: StoreDocument | null): void {
    if (!doc) return; // nothing to write: the store is never emptied through lowdb
    const text = JSON.stringify(doc);
    const tmp = `${this.path}.${process.pid}.${++tmpCounter}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    // The data is on disk before the rename, so after a crash or power cut the
    // store is the old document or the new one, never a broken one. The
    // directory is not fsynced: on a power cut (not a process crash) the
    // rename may be undone by up to one journal commit, a cost the issue's
    // budget for a write (≤ 2× a bare rewrite) does not leave room for.
    renameSync(tmp, this.path);
    const st = statSync(this.path);
    this.cached = doc;
    this.known = { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs };
  }

  /** Forgets the cached document, so the next read comes from disk. */
  forget(): void {
    this.cached = null;
    this.known = undefined;
  }
}

export interface JsonFileStoreOptions {
  /** How stale `peek()` may be with respect to other processes' writes. */
  peekMaxAgeMs?: number;
}

export function eventLogPathFor(storePath: string): string {
  return storePath.replace(/\.json$/i, '') + '.events.jsonl';
}

export class JsonFileStore implements Store {
  private readonly adapter: AtomicJsonFile;
  private readonly db: LowSync<StoreDocument | null>;
  private readonly log: EventLog;
  private readonly lockPath: string;
  private readonly peekMaxAgeMs: number;
  private checkedAt = -Infinity;
  private swept = false;
  // Transactions of this process queue here before taking the file lock.
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly location: string, opts: JsonFileStoreOptions = {}) {
    this.adapter = new AtomicJsonFile(location);
    this.db = new LowSync<StoreDocument | null>(this.adapter, null);
    this.log = new EventLog(eventLogPathFor(location));
    this.lockPath = location + '.lock';
    this.peekMaxAgeMs = opts.peekMaxAgeMs ?? 100;
  }

  async read(): Promise<StoreDocument | undefined> {
    this.db.read();
    this.checkedAt = performance.now();
    return this.db.data ?? undefined;
  }

  peek(): StoreDocument | undefined {
    const now = performance.now();
    if (this.db.data && now - this.checkedAt < this.peekMaxAgeMs) return this.db.data;
    this.db.read();
    this.checkedAt = now;
    return this.db.data ?? undefined;
  }

  async create(doc: StoreDocument): Promise<boolean> {
    mkdirSync(dirname(this.location), { recursive: true, mode: 0o700 });
    return this.exclusive(() => {
      if (existsSync(this.location)) return false;
      this.db.data = doc;
      this.db.write();
      return true;
    });
  }

  transact<T>(fn: (doc: StoreDocument, tx: Transaction) => T): Promise<T> {
    return this.exclusive(() => {
      this.db.read();
      const doc = this.db.data;
      if (!doc) throw new KeywardError('UNAVAILABLE', `There is no Keyward store at ${this.location}; run \`keyward init\` to create one.`);
      const pending: KeywardEvent[] = [];
      let result: T;
      try {
        result = fn(doc, { emit: (e) => pending.push(e) });
        this.db.write();
      } catch (e) {
        // Use cases refuse before they change anything, so a refusal leaves the
        // cached document valid. Anything else may have left it half-changed.
        if (!(e instanceof KeywardError)) {
          this.adapter.forget();
          this.db.data = null;
        }
        throw e;
      }
      this.checkedAt = performance.now();
      this.log.append(pending);
      return result;
    });
  }

  append(events: readonly KeywardEvent[]): Promise<void> {
    if (events.length === 0) return Promise.resolve();
    return this.exclusive(() => this.log.append(events));
  }

  async events(): Promise<readonly KeywardEvent[]> {
    return this.log.all();
  }

  async close(): Promise<void> {
    await this.queue;
  }

  private exclusive<T>(fn: () => T): Promise<T> {
    const run = this.queue.then(async () => {
      const release = await acquireLock(this.lockPath);
      try {
        if (!this.swept) {
          this.swept = true;
          removeDeadWritersLeftovers(this.location);
        }
        return fn();
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
