// Rolls usage up so what a question reads stays small: a raw hour that has
// closed becomes one file of per-key-per-minute sums; a day more than a day
// old becomes one file of per-key-per-hour sums, and its last uses go into
// last-used.json. Every step writes its result atomically before it removes
// what it folded, so a crash anywhere leaves either the parts or the whole
// (readers prefer the whole), never a double count. One process at a time
// rolls up (a lock file); the others skip.

import { constants } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DAY, HOUR, MINUTE, dayStart, hourStart } from './days.js';
import { isMissing, removeFile, removeStaleTemporaries, writeFileAtomically, writeFileOnce } from './files.js';
import { LAST_USED, daySumPath, hourSumPath, listUsage, rawPath, readRaw, readSum, type OnMalformed } from './usage-files.js';
import { emptyKey, foldKey, type KeyBuckets, type SumFile } from './usage-fold.js';

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
    for (const hour of listing.raw) {
      if (hourStart(hour) + HOUR + RAW_GRACE_MS > now) continue;
      if (!daySums.has(hour.slice(0, 10)) && !hourSums.has(hour)) {
        await writeFileOnce(hourSumPath(dir, hour), JSON.stringify(await foldRawHour(rawPath(dir, hour), onMalformed)));
        hourSums.add(hour);
      }
      await removeFile(rawPath(dir, hour));
    }
    const days = new Set([...hourSums].map((h) => h.slice(0, 10)));
    for (const day of [...days].sort()) {
      if (dayStart(day) + DAY + MINUTES_KEPT_MS > now) continue;
      const hours = [...hourSums].filter((h) => h.startsWith(day));
      let sum = daySums.has(day) ? await readSum(daySumPath(dir, day), onMalformed) : undefined;
      if (!sum) {
        sum = await foldDay(dir, hours, onMalformed);
        // Never over a day sum another process wrote meanwhile (it may have removed hours this fold missed).
        if (!(await writeFileOnce(daySumPath(dir, day), JSON.stringify(sum)))) sum = await readSum(daySumPath(dir, day), onMalformed);
        if (!sum) continue;
      }
      await mergeLastUsed(dir, sum, onMalformed);
      for (const h of hours) await removeFile(hourSumPath(dir, h));
    }
    return true;
  } finally {
    await removeFile(lock);
  }
}

async function foldRawHour(path: string, onMalformed: OnMalformed): Promise<SumFile> {
  const keys: Record<string, KeyBuckets> = Object.create(null);
  await readRaw(
    path,
    (batch) => {
      for (const [keyId, minute, uses, lastUsed, addresses] of batch.c) foldKey((keys[keyId] ??= emptyKey()), [[minute, uses]], lastUsed, addresses);
    },
    onMalformed,
  );
  return { keys };
}

/** A day's hour sums as per-key-per-hour buckets (bucket starts stay epoch minutes, on the hour). */
async function foldDay(dir: string, hours: string[], onMalformed: OnMalformed): Promise<SumFile> {
  const keys: Record<string, KeyBuckets> = Object.create(null);
  for (const hour of hours) {
    const sum = await readSum(hourSumPath(dir, hour), onMalformed);
    if (!sum) continue;
    for (const [keyId, k] of Object.entries(sum.keys)) {
      foldKey((keys[keyId] ??= emptyKey()), k.b.map(([minute, n]) => [minute - (minute % 60), n]), k.l, k.a);
    }
  }
  return { keys };
}

async function mergeLastUsed(dir: string, day: SumFile, onMalformed: OnMalformed): Promise<void> {
  const path = join(dir, LAST_USED);
  const last = (await readSum(path, onMalformed)) ?? { keys: {} };
  for (const [keyId, k] of Object.entries(day.keys)) foldKey((last.keys[keyId] ??= emptyKey()), [], k.l, k.a);
  await writeFileAtomically(path, JSON.stringify(last));
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

