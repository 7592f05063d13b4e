// Rolls usage up so what a question reads stays small: what servers appended
// to an hour's raw file is folded, as it comes, into that hour's
// per-key-per-minute sum and into last-used.json (each notes how far it has
// folded), and the raw file goes once the hour has closed; a day more than a
// day old becomes one file of per-key-per-hour sums. Every step
// writes its result atomically before it removes what it folded, so a crash
// anywhere leaves either the parts or the whole (readers prefer the whole),
// never a double count. One process at a time rolls up (a lock file); the
// others skip.

import { constants } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DAY, HOUR, MINUTE, dayStart, hourStart } from './days.js';
import { isMissing, removeFile, removeStaleTemporaries, writeFileAtomically, writeFileOnce } from './files.js';
import { LAST_USED, daySumPath, hourSumPath, listUsage, rawPath, readRaw, readSum, type OnMalformed } from './usage-files.js';
import { emptyKey, flushParts, foldKey, noteFlushFolded, type KeyBuckets, type SumFile } from './usage-fold.js';

/** A raw hour is folded this long after it ends: a flush that read the clock just before the hour ended has landed by then. */
export const RAW_GRACE_MS = 10 * MINUTE;
/** A day keeps its minutes for this long after it ends, then keeps hours only. */
export const MINUTES_KEPT_MS = DAY;
const LOCK_STALE_MS = 10 * MINUTE;

export async function rollUp(dir: string, now: number, onMalformed: OnMalformed): Promise<boolean> {
  const lock = join(dir, 'rollup.lock');
  if (!(await tryLock(lock))) return false;
  try {
    await removeStaleTemporaries(dir);
    const listing = await listUsage(dir);
    const daySums = new Set(listing.daySums);
    const hourSums = new Set(listing.hourSums);
    // Last uses first: a raw file is removed only once last-used.json has all of it.
    const lastUsedFolded = await foldLastUsed(dir, listing.raw, onMalformed);
    for (const hour of listing.raw) {
      if (daySums.has(hour.slice(0, 10))) {
        await removeFile(rawPath(dir, hour)); // left by a crash after its day was folded
        continue;
      }
      const closed = hourStart(hour) + HOUR + RAW_GRACE_MS <= now;
      await foldRawTail(dir, hour, closed ? (lastUsedFolded[hour] ?? 0) : undefined, onMalformed);
      hourSums.add(hour);
    }
    const days = new Set([...hourSums].map((h) => h.slice(0, 10)));
    for (const day of [...days].sort()) {
      if (dayStart(day) + DAY + MINUTES_KEPT_MS > now) continue;
      const hours = [...hourSums].filter((h) => h.startsWith(day));
      // An hour of the day still open (its raw file not folded yet, e.g. a roll-up failed half way) waits for the next roll-up.
      if (!(await allComplete(dir, hours, onMalformed))) continue;
      let sum = daySums.has(day) ? await readSum(daySumPath(dir, day), onMalformed) : undefined;
      if (!sum) {
        sum = await foldDay(dir, hours, onMalformed);
        // Never over a day sum another process wrote meanwhile (it may have removed hours this fold missed).
        if (!(await writeFileOnce(daySumPath(dir, day), JSON.stringify(sum)))) sum = await readSum(daySumPath(dir, day), onMalformed);
        if (!sum) continue;
      }
      for (const h of hours) await removeFile(hourSumPath(dir, h));
    }
    return true;
  } finally {
    await removeFile(lock);
  }
}

/**
 * Folds what was appended to an hour's raw file since its sum was last
 * written into that sum (per key per minute). An hour still open keeps its
 * raw file and the offset folded so far; a closed hour's sum is complete
 * (no offset) and its raw file is removed after the sum is durable.
 */
async function foldRawTail(dir: string, hour: string, closedAndLastUsedAt: number | undefined, onMalformed: OnMalformed): Promise<void> {
  const sum: SumFile = (await readSum(hourSumPath(dir, hour), onMalformed)) ?? { keys: Object.create(null) as SumFile['keys'], rawOffset: 0 };
  if (sum.rawOffset === undefined) {
    await removeFile(rawPath(dir, hour)); // already complete: a crash came before the removal
    return;
  }
  const keys = sum.keys;
  const f = sum.f ?? {};
  let changed = false;
  const end = await readRaw(
    rawPath(dir, hour),
    sum.rawOffset,
    (batch) => {
      changed = true;
      for (const [keyId, minute, uses, lastUsed, addresses] of batch.c) foldKey((keys[keyId] ??= emptyKey()), [[minute, uses]], lastUsed, addresses);
      noteFlushFolded(f, batch.i === undefined ? undefined : flushParts(batch.i));
    },
    onMalformed,
  );
  if (end === undefined) return;
  // A closed hour's raw file goes once both its sum and last-used.json have all of it.
  if (closedAndLastUsedAt !== undefined && end <= closedAndLastUsedAt) {
    await writeFileAtomically(hourSumPath(dir, hour), JSON.stringify({ keys, f }));
    await removeFile(rawPath(dir, hour));
  } else if (changed || end !== sum.rawOffset) {
    await writeFileAtomically(hourSumPath(dir, hour), JSON.stringify({ keys, rawOffset: end, f }));
  }
}

/** A day's hour sums as per-key-per-hour buckets (bucket starts stay epoch minutes, on the hour). */
async function foldDay(dir: string, hours: string[], onMalformed: OnMalformed): Promise<SumFile> {
  const keys: Record<string, KeyBuckets> = Object.create(null);
  const f: Record<string, number> = {};
  for (const hour of hours) {
    const sum = await readSum(hourSumPath(dir, hour), onMalformed);
    if (!sum) continue;
    for (const [keyId, k] of Object.entries(sum.keys)) {
      foldKey((keys[keyId] ??= emptyKey()), k.b.map(([minute, n]) => [minute - (minute % 60), n]), k.l, k.a);
    }
    for (const [by, seq] of Object.entries(sum.f ?? {})) noteFlushFolded(f, { by, seq });
  }
  return { keys, f };
}

/**
 * Folds the last uses and addresses of every raw file's tail into
 * last-used.json, which notes how far it folded each file still there, so
 * "last used" reads one small file and a minute or so of raw counts, however
 * long the history.
 */
async function foldLastUsed(dir: string, rawHours: string[], onMalformed: OnMalformed): Promise<Record<string, number>> {
  const path = join(dir, LAST_USED);
  const last: SumFile = (await readSum(path, onMalformed)) ?? { keys: Object.create(null) as SumFile['keys'] };
  const before = last.folded ?? {};
  const folded: Record<string, number> = {};
  let changed = Object.keys(before).some((h) => !rawHours.includes(h)); // files gone since: forget their offsets
  for (const hour of rawHours) {
    const from = before[hour] ?? 0;
    const end = await readRaw(
      rawPath(dir, hour),
      from,
      (batch) => {
        for (const [keyId, , , lastUsed, addresses] of batch.c) foldKey((last.keys[keyId] ??= emptyKey()), [], lastUsed, addresses);
      },
      onMalformed,
    );
    if (end === undefined) continue;
    folded[hour] = end;
    if (end !== from) changed = true;
  }
  if (changed) await writeFileAtomically(path, JSON.stringify({ keys: last.keys, folded }));
  return folded;
}

async function allComplete(dir: string, hours: string[], onMalformed: OnMalformed): Promise<boolean> {
  for (const hour of hours) {
    const sum = await readSum(hourSumPath(dir, hour), onMalformed);
    if (sum?.rawOffset !== undefined) return false;
  }
  return true;
}

/** Takes the roll-up lock unless another process holds it (one left by a dead process goes stale). */
async function tryLock(path: string): Promise<boolean> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
      await fd.writeFile(`${process.pid}\n`);
      await fd.close();
      return true;
    } catch (e) {
      if (isMissing(e)) return false; // no usage recorded yet: nothing to roll up
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    try {
      if (Date.now() - (await stat(path)).mtimeMs < LOCK_STALE_MS) return false;
    } catch (e) {
      if (!isMissing(e)) throw e;
      continue;
    }
    await removeFile(path);
  }
  return false;
}

