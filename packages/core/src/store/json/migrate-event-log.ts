// Moves a store of the first version from its single event log
// (`store.events.jsonl`, read whole into memory by the old code) to day
// segments and usage aggregates. It builds both beside their final place,
// makes them durable, renames them in, and only then removes the old log:
// a crash at any point leaves the old log, and running again starts over
// from it (a half-built staging directory is discarded). Lossless: every
// event that parsed before is in a segment after, and every `api-key.used`
// event's uses are in the aggregates.

import { rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { KeywardEvent } from '../../domain.js';
import type { UsageCount } from '../boundary.js';
import { HOUR, MINUTE } from './days.js';
import { EventSegments } from './event-segments.js';
import { isKeywardEvent } from './event-shape.js';
import { KeywardError } from '../../refusal.js';
import { isMissing, openForReading, removeFile, syncDir, writeFileOnce } from './files.js';
import { linesForward } from './line-reader.js';
import { UsageAggregates } from './usage-aggregates.js';

export interface MigrationTarget {
  eventsDir: string;
  usageDir: string;
}

export interface MigrationResult {
  events: number;
  /** Lines of the old log that were not events (the old code skipped them too). */
  skipped: number;
  /** `api-key.used` events folded into the aggregates. */
  usageEvents: number;
}

const BATCH = 5000;
const MARKER = '.migrated-from';

/** Migrates `logPath` if it exists; undefined when there is nothing to migrate. */
export async function migrateEventLog(logPath: string, target: MigrationTarget, opts: { keepOld?: boolean } = {}): Promise<MigrationResult | undefined> {
  const fd = await openForReading(logPath);
  if (!fd) return undefined;
  const identity = await fd.stat().then((st) => `${st.dev}:${st.ino}:${st.size}`);
  const staging = { eventsDir: `${target.eventsDir}.migrating`, usageDir: `${target.usageDir}.migrating` };
  const result: MigrationResult = { events: 0, skipped: 0, usageEvents: 0 };
  const done = (await isOurs(target.eventsDir, identity)) && (await isOurs(target.usageDir, identity));
  try {
    // What a crashed earlier run left half-built is discarded; the old log is still whole.
    await rm(staging.eventsDir, { recursive: true, force: true });
    await rm(staging.usageDir, { recursive: true, force: true });
    if (!done) {
      const segments = new EventSegments(staging.eventsDir);
      const usage = new UsageAggregates(staging.usageDir, { rollUpEveryMs: 0 });
      let events: KeywardEvent[] = [];
      const flush = async () => {
        await segments.append(events);
        await recordUsage(usage, events);
        events = [];
      };
      const size = (await fd.stat()).size;
      // The old log has plain JSON lines (no checksum); a line that is not an event was skipped by the old code as well.
      for await (const line of linesForward(fd, 0, size)) {
        let value: unknown;
        try {
          value = JSON.parse(line.text);
        } catch {
          value = undefined;
        }
        if (!isKeywardEvent(value)) {
          result.skipped++;
          continue;
        }
        events.push(value);
        result.events++;
        if (value.eventType === 'api-key.used' && value.keyId) result.usageEvents++;
        if (events.length >= BATCH) await flush();
      }
      await flush();
      await segments.idle();
      // No use recorded, no usage folder to roll up (its lock lives in it).
      if (result.usageEvents > 0) await usage.rollUp();
      await usage.idle();
    }
  } finally {
    await fd.close();
  }
  // Everything is durable in staging (each append fsynced); mark it, move it in, then let the old log go.
  await moveIn(staging.eventsDir, target.eventsDir, identity);
  await moveIn(staging.usageDir, target.usageDir, identity);
  await rm(staging.eventsDir, { recursive: true, force: true });
  await rm(staging.usageDir, { recursive: true, force: true });
  await syncDir(dirname(target.eventsDir));
  if (dirname(target.usageDir) !== dirname(target.eventsDir)) await syncDir(dirname(target.usageDir));
  if (!opts.keepOld) {
    await removeFile(logPath);
    await syncDir(dirname(logPath));
  }
  return result;
}

/** Uses of `api-key.used` events as aggregates, in the hour each was flushed (its time). */
async function recordUsage(usage: UsageAggregates, events: readonly KeywardEvent[]): Promise<void> {
  const byHour = new Map<number, UsageCount[]>();
  for (const e of events) {
    if (e.eventType !== 'api-key.used' || !e.keyId) continue;
    const uses = Number(e.data.uses);
    const to = typeof e.data.to === 'string' ? Date.parse(e.data.to) : NaN;
    const at = Number.isNaN(to) ? Date.parse(e.eventTime) : to;
    if (!Number.isSafeInteger(uses) || uses <= 0 || Number.isNaN(at)) continue;
    const hour = Math.floor(at / HOUR);
    let list = byHour.get(hour);
    if (!list) byHour.set(hour, (list = []));
    list.push({ keyId: e.keyId, minute: Math.floor(at / MINUTE), uses, lastUsed: at });
  }
  for (const [hour, counts] of byHour) await usage.record(counts, Math.max(hour * HOUR, ...counts.map((c) => c.lastUsed)));
}

/** Whether `dir` is the result of migrating this very log (a run that crashed after moving it in). */
async function isOurs(dir: string, identity: string): Promise<boolean> {
  const fd = await openForReading(join(dir, MARKER));
  if (!fd) return false;
  try {
    return (await fd.readFile('utf8')) === identity;
  } finally {
    await fd.close();
  }
}

async function moveIn(staged: string, final: string, identity: string): Promise<void> {
  if (await isOurs(final, identity)) return;
  try {
    await stat(staged);
  } catch (e) {
    if (isMissing(e)) return; // nothing was staged: the log had no events of this kind
    throw e;
  }
  await writeFileOnce(join(staged, MARKER), identity);
  try {
    await rename(staged, final);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
    // Segments beside an old log: a newer process wrote them, so the old log is not this store's whole history.
    await rm(staged, { recursive: true, force: true });
    throw new KeywardError('STORE_CORRUPT', `Both ${final} and an event log of the first version exist; the event log was not migrated and both were left as they were.`);
  }
}

