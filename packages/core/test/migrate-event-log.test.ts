import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { KeywardEvent } from '../src/domain.js';
import { newEvent } from '../src/events.js';
import { EventLog } from '../src/store/event-log.js';
import { EventSegments } from '../src/store/json/event-segments.js';
import { migrateEventLog } from '../src/store/json/migrate-event-log.js';
import { UsageAggregates } from '../src/store/json/usage-aggregates.js';

const T0 = Date.parse('2026-11-20T00:00:00.000Z');
const MIN = 60_000;

/** A store of the first version: its event log as the old code wrote it, with the odd lines a log can hold. */
function oldStore(): { dir: string; log: string; events: KeywardEvent[] } {
  const dir = mkdtempSync(join(tmpdir(), 'keyward-migrate-'));
  const log = join(dir, 'store.events.jsonl');
  const events: KeywardEvent[] = [];
  for (let i = 0; i < 3000; i++) {
    const t = T0 + i * 2 * MIN; // a little over four days
    if (i % 3 === 0) events.push(newEvent('api-key.generated', t, 'alice', `key${i % 7}`, { description: `k ${i}` }));
    else events.push(newEvent('api-key.used', t, 'alice', `key${i % 7}`, { uses: (i % 5) + 1, from: new Date(t - 4000).toISOString(), to: new Date(t).toISOString() }));
  }
  const old = new EventLog(log);
  old.append(events.slice(0, 1000));
  appendFileSync(log, 'null\n123\n{}\n{"id":"x"}\n{"half":');
  old.append(events.slice(1000));
  return { dir, log, events };
}

const target = (dir: string) => ({ eventsDir: join(dir, 'store.events'), usageDir: join(dir, 'store.usage') });

async function allEvents(dir: string): Promise<KeywardEvent[]> {
  return (await new EventSegments(join(dir, 'store.events')).find({ limit: 100_000 })).data;
}

function usesByKey(events: KeywardEvent[], since = 0): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of events) if (e.eventType === 'api-key.used' && Date.parse(e.eventTime) >= since) out[e.keyId!] = (out[e.keyId!] ?? 0) + (e.data.uses as number);
  return out;
}

describe('migrating the event log of the first version', () => {
  it('moves every event into day segments and every use into the aggregates, then removes the old log', async () => {
    const { dir, log, events } = oldStore();
    const result = await migrateEventLog(log, target(dir));
    expect(result).toEqual({ events: 3000, skipped: 5, usageEvents: 2000 });
    expect(existsSync(log)).toBe(false);
    expect((await allEvents(dir)).map((e) => e.id)).toEqual([...events].reverse().map((e) => e.id));
    const usage = new UsageAggregates(join(dir, 'store.usage'), { rollUpEveryMs: 0 });
    const got = Object.fromEntries((await usage.usageSince(0)).map((u) => [u.keyId, u.uses]));
    expect(got).toEqual(usesByKey(events));
    const last = await usage.lastUsedOf(['key1', 'key2']);
    for (const k of ['key1', 'key2']) {
      const mine = events.filter((e) => e.eventType === 'api-key.used' && e.keyId === k).map((e) => Date.parse(e.eventTime));
      expect(last.get(k)!.lastUsed).toBe(Math.max(...mine));
    }
    // Old days were rolled up, and nothing is left staged.
    expect(readdirSync(join(dir, 'store.usage'))).toContain('2026-11-20.sum.json');
    expect(readdirSync(dir).filter((n) => n.includes('migrating'))).toEqual([]);
    expect(await migrateEventLog(log, target(dir))).toBeUndefined();
  });

  it('starts over after a crash mid-build, and finishes without double counting after a crash once moved in', async () => {
    const { dir, log, events } = oldStore();
    // A run killed while building: its staging is discarded, the old log is untouched.
    mkdirSync(join(dir, 'store.events.migrating'));
    writeFileSync(join(dir, 'store.events.migrating', '2026-11-20.jsonl'), 'half a segment');
    // A run that moved everything in but died before removing the old log (keepOld stands in for the crash).
    await migrateEventLog(log, target(dir), { keepOld: true });
    expect(existsSync(log)).toBe(true);
    const again = await migrateEventLog(log, target(dir));
    expect(again).toEqual({ events: 0, skipped: 0, usageEvents: 0 });
    expect(existsSync(log)).toBe(false);
    expect((await allEvents(dir)).length).toBe(events.length);
    const usage = new UsageAggregates(join(dir, 'store.usage'), { rollUpEveryMs: 0 });
    expect(Object.fromEntries((await usage.usageSince(0)).map((u) => [u.keyId, u.uses]))).toEqual(usesByKey(events));
  });

  it('leaves both alone when segments already exist beside an old log', async () => {
    const { dir, log } = oldStore();
    await new EventSegments(join(dir, 'store.events')).append([newEvent('user.added', T0, 'alice', undefined, {})]);
    await expect(migrateEventLog(log, target(dir))).rejects.toMatchObject({ code: 'STORE_CORRUPT' });
    expect(existsSync(log)).toBe(true);
    expect((await allEvents(dir)).length).toBe(1);
  });
});
