// Faults of a disk that fails under a store, made at the file handles of this
// process (node:fs/promises FileHandle, which every file of the JSON store goes
// through): an fsync refused after the write before it was made, a write whose
// bytes reached the file before it was refused (an O_DSYNC write whose sync
// failed), a truncate refused. Each returns the spy; mockRestore() ends it.
import { open } from 'node:fs/promises';
import { vi } from 'vitest';

type Handle = {
  datasync(this: unknown): Promise<void>;
  write(this: unknown, ...a: unknown[]): Promise<{ bytesWritten: number; buffer: unknown }>;
  truncate(this: unknown, len?: number): Promise<void>;
};

/** The prototype every FileHandle of this process shares. */
async function handlePrototype(): Promise<Handle> {
  const probe = await open(process.execPath, 'r');
  const handle = Object.getPrototypeOf(probe) as Handle;
  await probe.close();
  return handle;
}

const eio = (call: string) => Object.assign(new Error(`EIO: i/o error, ${call}`), { code: 'EIO', syscall: call });

/** The `nth` next fdatasync of this process (1: the next) fails with EIO, after the write before it was made. */
export async function failingAnFsync(nth = 1) {
  const handle = await handlePrototype();
  const datasync = handle.datasync;
  let calls = 0;
  return vi.spyOn(handle, 'datasync').mockImplementation(function (this: unknown) {
    if (++calls === nth) return Promise.reject(eio('fdatasync'));
    return datasync.call(this);
  });
}

/**
 * The next write of this process whose bytes carry `marker` fails with EIO:
 * `made`, once its bytes reached the file (the caller told it failed), or
 * else writing nothing.
 */
async function failingAWriteOf(marker: string, made: boolean) {
  const handle = await handlePrototype();
  const write = handle.write;
  let done = false;
  return vi.spyOn(handle, 'write').mockImplementation(async function (this: unknown, ...a: unknown[]) {
    if (done || !(Buffer.isBuffer(a[0]) && a[0].includes(marker))) return write.apply(this, a);
    done = true;
    if (made) await write.apply(this, a);
    throw eio('write');
  });
}

/** The next write of this process whose bytes carry `marker` is made, then answered EIO: its bytes are in the file, the caller told it failed. */
export const failingAfterTheWriteOf = (marker: string) => failingAWriteOf(marker, true);

/** The next write of this process whose bytes carry `marker` fails with EIO, writing nothing. */
export const failingTheWriteOf = (marker: string) => failingAWriteOf(marker, false);

/** Every ftruncate of this process fails with EIO, changing nothing. */
export async function failingTruncates() {
  const handle = await handlePrototype();
  return vi.spyOn(handle, 'truncate').mockImplementation(() => Promise.reject(eio('ftruncate')));
}
