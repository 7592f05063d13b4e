// File primitives every part of the JSON store shares: no store file is
// opened through a symlink (O_NOFOLLOW), files are created private (0600),
// temporary files get unpredictable names and are created exclusively, and a
// disk fault becomes UNAVAILABLE with the path named, never a bare errno.

import { randomBytes } from 'node:crypto';
import { type BigIntStats, constants } from 'node:fs';
import { link, lstat, mkdir, open, readdir, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { KeywardError } from '../../refusal.js';

const { O_APPEND, O_CREAT, O_EXCL, O_NOFOLLOW, O_RDONLY, O_RDWR, O_WRONLY } = constants;

export function isMissing(e: unknown): boolean {
  return (e as NodeJS.ErrnoException)?.code === 'ENOENT';
}

/** A disk fault as the product's refusal: the change did not happen. */
export function unavailable(what: string, path: string, e: unknown): KeywardError {
  return new KeywardError('UNAVAILABLE', `Could not ${what} ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); nothing was changed.`);
}

/** Opens for reading, refusing a symlink; undefined when the file does not exist. */
export async function openForReading(path: string): Promise<FileHandle | undefined> {
  try {
    return await open(path, O_RDONLY | O_NOFOLLOW);
  } catch (e) {
    if (isMissing(e)) return undefined;
    throw e;
  }
}

/** Opens for appending, creating the file private; a symlink is refused (ELOOP). */
export function openForAppend(path: string): Promise<FileHandle> {
  return open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW, 0o600);
}

/** Creates a private directory (and its parents) if missing; a symlink in its place is refused, as for files. */
export async function ensureDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if ((await lstat(dir)).isSymbolicLink()) throw Object.assign(new Error(`${dir} is a symbolic link`), { code: 'ELOOP' });
}

/** Makes sure of a directory once per process (again after a failure); a fault is UNAVAILABLE. */
export function directoryOnce(dir: string): () => Promise<void> {
  let ready: Promise<void> | undefined;
  return () =>
    (ready ??= ensureDir(dir).catch((e) => {
      ready = undefined;
      throw unavailable('create the directory', dir, e);
    }));
}

/** Names in a directory; none when it does not exist yet. */
export async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (e) {
    if (isMissing(e)) return [];
    throw e;
  }
}

/** Unlinks, treating an already missing file as done (another process got there first). */
export async function removeFile(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (e) {
    if (!isMissing(e)) throw e;
  }
}

/** Removes temporary files (of writeFileAtomically/Once) that a killed writer left, once they are older than any write takes. */
export async function removeStaleTemporaries(dir: string, olderThanMs = 10 * 60_000): Promise<void> {
  for (const name of await listDir(dir)) {
    if (!/\.[0-9a-f]{16}\.tmp$/.test(name)) continue;
    const path = join(dir, name);
    try {
      if (Date.now() - (await lstat(path)).mtimeMs > olderThanMs) await removeFile(path);
    } catch (e) {
      if (!isMissing(e)) throw e;
    }
  }
}

/** Fsyncs a directory so a rename or unlink in it survives a power cut. */
export async function syncDir(dir: string): Promise<void> {
  const fd = await open(dir, O_RDONLY);
  try {
    await fd.sync();
  } finally {
    await fd.close();
  }
}

/**
 * Replaces `path` with `text` atomically and durably: an exclusively created
 * temporary file under an unpredictable name, fsynced, renamed over, and the
 * directory fsynced. A reader sees the old file or the new one, never a part.
 */
export async function writeFileAtomically(path: string, text: string): Promise<void> {
  const tmp = await writeTemporary(path, text);
  try {
    await rename(tmp, path);
  } catch (e) {
    await removeFile(tmp);
    throw e;
  }
  await syncDir(dirname(path));
}

/**
 * Creates `path` with `text` unless it exists (false then), atomically and
 * durably: the whole file appears at once (a hard link of a private
 * temporary file), never a part of it, and never over another's.
 */
export async function writeFileOnce(path: string, text: string): Promise<boolean> {
  const tmp = await writeTemporary(path, text);
  try {
    await link(tmp, path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    await removeFile(tmp);
  }
  await syncDir(dirname(path));
  return true;
}

/** A private, exclusively created, fsynced temporary file beside `path`, holding `text`. */
async function writeTemporary(path: string, text: string): Promise<string> {
  const tmp = temporaryName(path);
  const fd = await open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
  try {
    await writeAll(fd, Buffer.from(text, 'utf8'));
    await fd.sync();
  } catch (e) {
    await fd.close().catch(() => undefined);
    await removeFile(tmp);
    throw e;
  }
  await fd.close();
  return tmp;
}

/** Writes every byte (a short write is retried for the rest, never taken as done). */
export async function writeAll(fd: FileHandle, buf: Buffer, position?: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesWritten } = await fd.write(buf, done, buf.length - done, position === undefined ? null : position + done);
    if (bytesWritten <= 0) throw Object.assign(new Error('short write'), { code: 'EIO' });
    done += bytesWritten;
  }
}

/** Reads `length` bytes at `position` (fewer at the end of the file). */
export async function readAt(fd: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await fd.read(buf, got, length - got, position + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got === length ? buf : buf.subarray(0, got);
}

/** A disk fault as the refusal behaviour §5 names, saying what was being done. */
export function diskFault(e: unknown, what: string): KeywardError {
  if (e instanceof KeywardError) return e;
  const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
  const why = code === 'ENOSPC' ? 'the disk is full' : code === 'ELOOP' ? 'it is a symbolic link, which a store never follows' : code;
  return new KeywardError('UNAVAILABLE', `${what} failed (${why}); nothing was changed.`);
}

/**
 * Where the platform has O_DSYNC, a write through a handle opened with it
 * returns only once durable, as write + fdatasync would: one call, where two
 * each cost a turn of a busy server's event loop.
 */
export const SYNCED_WRITES = constants.O_DSYNC ?? 0;

/** Opens an existing store file for reading (and writing), never through a symlink; `flags` adds SYNCED_WRITES. */
export function openExisting(path: string, writable: boolean, flags = 0): Promise<FileHandle> {
  return open(path, (writable ? O_RDWR : O_RDONLY) | O_NOFOLLOW | flags);
}

/** `<file>.<pid>.<random>.tmp`: unguessable, and a dead writer's leftovers can be told by the pid. */
function temporaryName(path: string): string {
  return `${path}.${process.pid}.${randomBytes(8).toString('hex')}.tmp`;
}

/**
 * Writes a whole file (given whole or in chunks) in place of `path`, atomically and durably: a private
 * temporary file (created exclusively), every byte checked, fsync, rename,
 * fsync of the directory. On any fault the temporary file is removed and
 * `path` is as it was. `beforeRename` runs last (it may take the caller's
 * lock), told what the temporary file is (its stat, once fsynced), and may
 * still cancel by answering false.
 */
export async function replaceFile(path: string, data: Buffer | readonly Buffer[], beforeRename?: (written: BigIntStats) => Promise<boolean>): Promise<boolean> {
  const tmp = temporaryName(path);
  const chunks = Buffer.isBuffer(data) ? [data] : data;
  let fh: FileHandle | undefined;
  let renamed = false;
  try {
    fh = await open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
    let length = 0;
    for (const chunk of chunks) {
      await writeAll(fh, chunk, length);
      length += chunk.length;
    }
    const written = await fh.stat({ bigint: true });
    if (written.size !== BigInt(length)) throw Object.assign(new Error(`wrote ${written.size} of ${length} bytes`), { code: 'EIO' });
    await fh.sync();
    await fh.close();
    fh = undefined;
    if (beforeRename && !(await beforeRename(written))) return false;
    await rename(tmp, path);
    renamed = true;
    await syncDir(dirname(path));
    return true;
  } finally {
    if (fh) await fh.close().catch(() => undefined);
    if (!renamed) await removeFile(tmp).catch(() => undefined);
  }
}

export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes `<path>.<pid>.….<suffix>` files left by writers killed mid-write
 * (temporary files, half-taken locks) whose pid no longer runs. Call under the lock.
 */
export async function removeDeadWritersLeftovers(path: string, suffix = '.tmp'): Promise<void> {
  const prefix = basename(path) + '.';
  for (const name of await listDir(dirname(path)).catch(() => [] as string[])) {
    if (!name.startsWith(prefix) || !name.endsWith(suffix)) continue;
    const pid = Number(name.slice(prefix.length).split('.')[0]);
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || isRunning(pid)) continue;
    await removeFile(join(dirname(path), name)).catch(() => undefined);
  }
}
