// A PostgreSQL store reads how far this process's clock is from its
// database's (clock-offset.ts) — on a real PostgreSQL on this machine, whose
// clock is this process's: the offset found is within its own error of
// zero. Once at clockOffset() (what `keyward serve` asks as it starts), then
// every few of the change feed's heartbeats; the latest surest reading is a
// gauge (the metrics' keyward_clock_offset_seconds). test/serve-clock.pg.test.ts
// runs a server whose clock is set back, and reads what it says.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChangeFeed } from '../../src/store/postgres/changes.js';
import type { ClockOffsetReading } from '../../src/store/boundary.js';
import { connectionConfig } from '../../src/store/postgres/connection.js';
import { createPostgresStore } from '../../src/store/postgres/store.js';
import { freePort } from '../../../../test/support/free-port.js';
import { seededDatabase } from './seeded-database.js';

let url: string;
let drop: () => Promise<void>;
beforeAll(async () => void ({ db: { url }, drop } = await seededDatabase()));
afterAll(() => drop());

/** Within a millisecond of its error: the database's clock is this machine's, and Date.now() counts whole milliseconds. */
const nearZero = (r: ClockOffsetReading) => {
  expect(r.errorMs).toBeGreaterThanOrEqual(0);
  expect(r.errorMs).toBeLessThan(250);
  expect(Math.abs(r.offsetMs)).toBeLessThanOrEqual(r.errorMs + 1);
};

describe('the clock offset', () => {
  it("is read at clockOffset(), kept as a gauge, and within its error of zero on this machine's database", async () => {
    const store = createPostgresStore(url);
    try {
      expect(store.gauges().clock).toBeUndefined();
      const r = await store.clockOffset();
      nearZero(r);
      // The surest reading kept is the gauge.
      expect(store.gauges().clock).toEqual(r);
    } finally {
      await store.close();
    }
  });

  it('is read by the change feed every few heartbeats on its own connection', async () => {
    const readings: ClockOffsetReading[] = [];
    const feed = new ChangeFeed(connectionConfig(url), 'clock-test', { clockRead: (r) => readings.push(r) });
    feed.start();
    try {
      const at = Date.now();
      while (readings.length < 2 && Date.now() - at < 15_000) await new Promise((r) => setTimeout(r, 100));
      // Two readings, about 3 s apart (every tenth answered heartbeat).
      expect(readings.length).toBeGreaterThanOrEqual(2);
      expect(Date.now() - at).toBeGreaterThan(5_000);
      for (const r of readings) nearZero(r);
    } finally {
      await feed.close();
    }
  });

  it('is refused UNAVAILABLE where the database cannot be reached, with no reading kept', async () => {
    const store = createPostgresStore(`postgres://keyward:x@127.0.0.1:${await freePort()}/keyward`);
    try {
      await expect(store.clockOffset()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
      expect(store.gauges().clock).toBeUndefined();
    } finally {
      await store.close();
    }
  });
});
