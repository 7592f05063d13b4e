// The files of the usage aggregates, one directory per store:
//   2026-12-01T13.jsonl     counts as servers flushed them in that hour (appended, raw)
//   2026-12-01T13.sum.json  that hour folded per key per minute: up to an offset
//                           of the raw file while the hour is open, all of it after
//   2026-12-01.sum.json     that day folded per key per hour, once a day old
//   last-used.json          every key's last use and addresses, ever, with how far it
//                           has folded each raw file still there
// Each file belongs to the UTC hour or day its counts were flushed in; the
// counts inside never lie later than that (a flush counts past uses only).

import { join } from 'node:path';
import type { FileHandle } from 'node:fs/promises';
import { parseCheckedLine } from './checked-line.js';
import { dayStart, hourStart } from './days.js';
import { listDir, openForReading } from './files.js';
import { linesForward } from './line-reader.js';
import { isRawBatch, isSumFile, type KeyBuckets, type RawBatch, type SumFile } from './usage-fold.js';

export const LAST_USED = 'last-used.json';

export interface UsageListing {
  /** Hours with a raw file, sorted. */
  raw: string[];
  hourSums: string[];
  daySums: string[];
  hasLastUsed: boolean;
}

export async function listUsage(dir: string): Promise<UsageListing> {
  const out: UsageListing = { raw: [], hourSums: [], daySums: [], hasLastUsed: false };
  for (const name of await listDir(dir)) {
    let m: RegExpExecArray | null;
    if ((m = /^(\d{4}-\d{2}-\d{2}T\d{2})\.jsonl$/.exec(name)) && !Number.isNaN(hourStart(m[1]))) out.raw.push(m[1]);
    else if ((m = /^(\d{4}-\d{2}-\d{2}T\d{2})\.sum\.json$/.exec(name)) && !Number.isNaN(hourStart(m[1]))) out.hourSums.push(m[1]);
    else if ((m = /^(\d{4}-\d{2}-\d{2})\.sum\.json$/.exec(name)) && !Number.isNaN(dayStart(m[1]))) out.daySums.push(m[1]);
    else if (name === LAST_USED) out.hasLastUsed = true;
  }
  out.raw.sort();
  out.hourSums.sort();
  out.daySums.sort();
  return out;
}

/** Hours with a sum, a raw file, or both, oldest first. */
export function hoursOf(listing: UsageListing): string[] {
  return [...new Set([...listing.hourSums, ...listing.raw])].sort();
}

export const rawPath = (dir: string, hour: string) => join(dir, `${hour}.jsonl`);
export const hourSumPath = (dir: string, hour: string) => join(dir, `${hour}.sum.json`);
export const daySumPath = (dir: string, day: string) => join(dir, `${day}.sum.json`);

/** Reports what could not be read, once per file. */
export type OnMalformed = (file: string, what: number) => void;

/**
 * Each batch of a raw file from byte `from` on, oldest first. Answers the
 * offset just past the last complete line read (where the next fold starts),
 * or undefined when the file is gone (folded and removed by a roll-up).
 */
export async function readRaw(path: string, from: number, each: (batch: RawBatch) => void, onMalformed: OnMalformed): Promise<number | undefined> {
  const fd = await openForReading(path);
  if (!fd) return undefined;
  let bad = 0;
  let end = from;
  try {
    const size = (await fd.stat()).size;
    for await (const line of linesForward(fd, from, size)) {
      const batch = parseCheckedLine(line.text);
      if (isRawBatch(batch)) each(batch);
      else bad++;
      end = line.end;
    }
  } finally {
    await fd.close();
  }
  if (bad > 0) onMalformed(path, bad);
  return end;
}

/**
 * An hour's usage: its sum (what a roll-up folded) plus the raw file past the
 * sum's offset. Each pair read is consistent on its own; when the raw file
 * vanished under us (a roll-up folded it all and removed it), the sum is read
 * again, and then holds everything.
 */
export async function readHour(dir: string, hour: string, each: (keyId: string, k: KeyBuckets) => void, onMalformed: OnMalformed): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const sum = await readSum(hourSumPath(dir, hour), onMalformed);
    const read = await readRaw(
      rawPath(dir, hour),
      sum?.rawOffset ?? 0,
      (batch) => {
        for (const [keyId, minute, uses, lastUsed, addresses] of batch.c) each(keyId, { b: [[minute, uses]], l: lastUsed, a: addresses });
      },
      onMalformed,
    );
    // The raw file is gone (nothing of it was handed on): a sum still open was completed and the file removed since.
    if (read === undefined && sum?.rawOffset !== undefined && attempt < 2) continue;
    if (sum) for (const [keyId, k] of Object.entries(sum.keys)) each(keyId, k);
    return;
  }
}

/** A rolled-up file; undefined when missing or not what it should be (reported). */
export async function readSum(path: string, onMalformed: OnMalformed): Promise<SumFile | undefined> {
  const fd: FileHandle | undefined = await openForReading(path);
  if (!fd) return undefined;
  try {
    const x = JSON.parse(await fd.readFile('utf8')) as unknown;
    if (isSumFile(x)) return x;
  } catch {
    // reported below
  } finally {
    await fd.close();
  }
  onMalformed(path, 1);
  return undefined;
}
