// The files of the usage aggregates, one directory per store:
//   2026-12-01T13.jsonl     counts as servers flushed them in that hour (appended, raw)
//   2026-12-01T13.sum.json  that hour folded per key per minute, once it closed
//   2026-12-01.sum.json     that day folded per key per hour, once a day old
//   last-used.json          every key's last use and addresses up to the days folded
// Each file belongs to the UTC hour or day its counts were flushed in; the
// counts inside never lie later than that (a flush counts past uses only).

import { join } from 'node:path';
import type { FileHandle } from 'node:fs/promises';
import { parseCheckedLine } from './checked-line.js';
import { dayStart, hourStart } from './days.js';
import { listDir, openForReading } from './files.js';
import { linesForward } from './line-reader.js';
import { isRawBatch, isSumFile, type RawBatch, type SumFile } from './usage-fold.js';

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

export const rawPath = (dir: string, hour: string) => join(dir, `${hour}.jsonl`);
export const hourSumPath = (dir: string, hour: string) => join(dir, `${hour}.sum.json`);
export const daySumPath = (dir: string, day: string) => join(dir, `${day}.sum.json`);

/** Reports what could not be read, once per file. */
export type OnMalformed = (file: string, what: number) => void;

/** Each batch of a raw file, oldest first; undefined when the file is gone (rolled up or removed). */
export async function readRaw(path: string, each: (batch: RawBatch) => void, onMalformed: OnMalformed): Promise<boolean> {
  const fd = await openForReading(path);
  if (!fd) return false;
  let bad = 0;
  try {
    const size = (await fd.stat()).size;
    for await (const line of linesForward(fd, 0, size)) {
      const batch = parseCheckedLine(line.text);
      if (isRawBatch(batch)) each(batch);
      else bad++;
    }
  } finally {
    await fd.close();
  }
  if (bad > 0) onMalformed(path, bad);
  return true;
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
