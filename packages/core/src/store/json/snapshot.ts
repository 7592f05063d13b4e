// The snapshot: the lowdb document, as before, but rewritten only by
// compaction (never per change) and naming the journal position it
// includes. Read and written through lowdb with an adapter of our own:
// reads never follow a symlink, writes go through replaceFile (exclusive
// temporary file, byte count checked, fsync, rename, fsync of the directory).

import { readFile } from 'node:fs/promises';
import { type BigIntStats, constants } from 'node:fs';
import { type Adapter, Low } from 'lowdb';
import type { StoreDocument } from '../../domain.js';
import { KeywardError } from '../../refusal.js';
import { storeClosed } from '../closed.js';
import { diskFault, replaceFile } from './files.js';
import { jsonInSlices } from './json-in-slices.js';
import { parseApart } from './parse-apart.js';

/**
 * Below this a snapshot is parsed in place when checked: a few ms, less than
 * a worker thread costs to start (~20 ms, on another core). A 100k-key store
 * is 34 MB.
 */
export const PARSE_APART_FROM_BYTES = 1 << 20;

export interface SnapshotDocument<S = unknown> {
  version: 2;
  /** Journal position this snapshot includes: replay starts here. */
  position: number;
  state: S;
}

/** What a store file can hold: today's snapshot, or round 1's whole document (migrated on open). */
export type StoreFile = SnapshotDocument | StoreDocument;

function isSnapshot(x: unknown): x is SnapshotDocument {
  const d = x as SnapshotDocument;
  return !!d && typeof d === 'object' && d.version === 2 && Number.isSafeInteger(d.position) && d.position >= 0 && typeof d.state === 'object';
}

export function isVersion1(x: unknown): x is StoreDocument {
  const d = x as StoreDocument;
  return !!d && typeof d === 'object' && d.version === 1 && typeof d.tenant === 'object' && !!d.tenant && typeof d.users === 'object' && !!d.users && typeof d.keys === 'object' && !!d.keys;
}

class SnapshotFile implements Adapter<StoreFile | null> {
  /** Set by the writer: last check under the lock before the rename, told what the new file is. */
  beforeRename?: (written: BigIntStats) => Promise<boolean>;
  /** Bytes of the last snapshot written, 0 when the write was cancelled. */
  written = 0;
  readBytes = 0;

  constructor(readonly path: string) {}

  async read(): Promise<StoreFile | null> {
    let text: string;
    try {
      text = await readFile(this.path, { encoding: 'utf8', flag: constants.O_RDONLY | constants.O_NOFOLLOW });
    } catch (e) {
      return this.readFailed(e);
    }
    this.readBytes = text.length;
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      throw this.notJson((e as Error).message);
    }
    return this.storeFile(doc);
  }

  /** Stops the checks on worker threads (close): each is refused UNAVAILABLE, and none parses in place after. */
  readonly stop = new AbortController();
  /** The checks on worker threads under way: close() waits for their workers to be gone. */
  readonly parsing = new Set<Promise<unknown>>();

  /** What check() needs, parsed on a worker thread (parse-apart.ts); in place if the worker could not run. */
  async outline(): Promise<StoreFile | null> {
    const parse = parseApart(this.path, this.stop.signal);
    this.parsing.add(parse);
    const found = await parse.catch(() => undefined).finally(() => this.parsing.delete(parse));
    if (this.stop.signal.aborted) throw storeClosed(this.path);
    if (!found) return this.read();
    if ('fault' in found) return this.readFailed(Object.assign(new Error(found.fault.message), { code: found.fault.code }));
    if ('invalid' in found) throw this.notJson(found.invalid);
    return this.storeFile(found.outline);
  }

  private readFailed(e: unknown): null {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw diskFault(e, `Reading the store ${this.path}`);
  }

  private notJson(why: string): KeywardError {
    return new KeywardError('STORE_CORRUPT', `The store file ${this.path} is not valid JSON (${why}); it was left untouched. Restore it from a backup or point --store elsewhere.`);
  }

  private storeFile(doc: unknown): StoreFile {
    if (!isSnapshot(doc) && !isVersion1(doc)) throw new KeywardError('STORE_CORRUPT', `The store file ${this.path} is not a Keyward store; it was left untouched.`);
    return doc;
  }

  async write(doc: StoreFile | null): Promise<void> {
    if (!doc) return;
    try {
      // Made over several turns of the event loop: a server's verifies are not held up by a compaction.
      const data = await jsonInSlices(doc);
      const length = data.reduce((n, c) => n + c.length, 0);
      this.written = (await replaceFile(this.path, data, this.beforeRename)) ? length : 0;
    } catch (e) {
      throw diskFault(e, `Writing the snapshot ${this.path}`);
    }
  }
}

/** The store file through lowdb. */
export class Snapshot {
  private readonly file: SnapshotFile;
  private readonly db: Low<StoreFile | null>;

  constructor(readonly path: string) {
    this.file = new SnapshotFile(path);
    this.db = new Low<StoreFile | null>(this.file, null);
  }

  /** Bytes of the document last read. */
  readBytes = 0;

  /** The document on disk, or null when there is no store file. Throws STORE_CORRUPT when it does not parse. */
  async read(): Promise<StoreFile | null> {
    await this.db.read();
    this.readBytes = this.file.readBytes;
    const doc = this.db.data;
    this.db.data = null; // the state lives in the tenant state, not twice in memory
    return doc;
  }

  /**
   * The file as a check needs it (checkSnapshot: is it a store file, at which
   * position), STORE_CORRUPT as read() when it is not; its state is left out
   * (each object in it read as empty). A file of `bytes` from
   * PARSE_APART_FROM_BYTES on is parsed on a worker thread, off the event loop.
   */
  async check(bytes: number): Promise<Pick<SnapshotDocument, 'version' | 'position'> | Pick<StoreDocument, 'version'> | null> {
    return bytes >= PARSE_APART_FROM_BYTES ? this.file.outline() : this.file.read();
  }

  /** Stops the checks under way on worker threads (their store is closed) and waits until their workers are gone. */
  async close(): Promise<void> {
    this.file.stop.abort(storeClosed(this.path));
    await Promise.allSettled([...this.file.parsing]);
  }

  /** Writes a snapshot in place of the store file; its size in bytes, or 0 when `beforeRename` cancelled it. */
  async write(doc: StoreFile, beforeRename?: (written: BigIntStats) => Promise<boolean>): Promise<number> {
    this.file.beforeRename = beforeRename;
    this.file.written = 0;
    this.db.data = doc;
    try {
      await this.db.write();
      return this.file.written;
    } finally {
      this.db.data = null;
      this.file.beforeRename = undefined;
    }
  }
}
