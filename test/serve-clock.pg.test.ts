// Two `keyward serve` on one real PostgreSQL, one of them on a clock set five
// seconds back (libfaketime, LD_PRELOAD: the process's own clock, nothing of
// the machine's). Each server decides expiry by its own clock, so the one
// behind accepts a key up to five seconds past its expiry: it says so on
// stderr as it starts, and its metrics show how far it is off
// (keyward_clock_offset_seconds), read against the database's clock; the
// other, whose clock is the database's, says nothing and shows about zero.
// Then a server whose clock is set back while it runs (as a virtual machine
// resumed from a pause finds it) says so then, and again once it is set right.

import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from './support/postgres.js';
import { bootstrap } from './support/flow.js';
import { metricsUrlOf, startServe } from './support/serve.js';
import { call } from './support/http.js';
import { skippedWhereMissing } from './support/needed-here.js';

// Debian's faketime package.
const LIBFAKETIME = ['/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1'].find((p) => existsSync(p));
const BEHIND = { LD_PRELOAD: LIBFAKETIME ?? '', FAKETIME: '-5s', FAKETIME_DONT_FAKE_MONOTONIC: '1' };

/** One scrape's value of `name` (no labels), once it is there (or after 10 s, undefined). */
async function gaugeOf(metricsUrl: string, name: string): Promise<number | undefined> {
  for (let at = Date.now(); Date.now() - at < 10_000; await new Promise((r) => setTimeout(r, 100))) {
    const line = (await (await fetch(metricsUrl)).text()).split('\n').find((l) => l.startsWith(`${name} `));
    if (line) return Number(line.slice(name.length + 1));
  }
  return undefined;
}

/** Waits for `text` on a server's stderr (`ms`, 10 s by default, at most), and says whether it came. */
async function said(stderr: () => string, text: string, ms = 10_000): Promise<boolean> {
  for (let at = Date.now(); Date.now() - at < ms; await new Promise((r) => setTimeout(r, 50))) if (stderr().includes(text)) return true;
  return false;
}

let store: string;
let tokens: { alice: string; bob: string };
beforeAll(async () => {
  store = (await createTestDatabase()).url;
  tokens = bootstrap(store);
});

describe.skipIf(skippedWhereMissing(!LIBFAKETIME))(`a server whose clock is off the database's${LIBFAKETIME ? '' : ' (libfaketime is not installed: apt-get install faketime)'}`, () => {
  it('says so as it starts and shows how far in its metrics; a server on time says nothing and shows about zero', async () => {
    if (!LIBFAKETIME) throw new Error('libfaketime is not installed: apt-get install faketime');
    const [onTime, behind] = await Promise.all([startServe(store, ['--metrics-port', '0']), startServe(store, ['--metrics-port', '0'], BEHIND)]);
    // The clock set back is this process's alone: it answers as any server does.
    expect((await call(`${behind.url}/api/v1/users/me`, tokens.bob)).status).toBe(200);

    expect(await said(behind.stderr, "Warning: this server's clock is 5.0 s behind the database's.")).toBe(true);
    expect(behind.stderr()).toContain('this server accepts a key up to 5.0 s past its expiry, and dates what it makes 5.0 s early. Set every server\'s time by NTP.');
    const offBehind = await gaugeOf(await metricsUrlOf(behind), 'keyward_clock_offset_seconds');
    expect(offBehind).toBeGreaterThan(-5.25);
    expect(offBehind).toBeLessThan(-4.75);
    expect(await gaugeOf(await metricsUrlOf(behind), 'keyward_clock_offset_error_seconds')).toBeLessThan(0.25);

    const offOnTime = await gaugeOf(await metricsUrlOf(onTime), 'keyward_clock_offset_seconds');
    expect(Math.abs(offOnTime!)).toBeLessThan(0.25);
    expect(onTime.stderr()).not.toContain('clock');
  });

  it('says so when its clock is set off while it runs, and when it is set right again', async () => {
    if (!LIBFAKETIME) throw new Error('libfaketime is not installed: apt-get install faketime');
    // libfaketime reads how far to set the clock from this file, again every second.
    const dir = mkdtempSync(join(tmpdir(), 'keyward-clock-'));
    const spec = join(dir, 'faketime');
    writeFileSync(spec, '+0\n');
    try {
      const server = await startServe(store, ['--metrics-port', '0'], { LD_PRELOAD: LIBFAKETIME, FAKETIME_TIMESTAMP_FILE: spec, FAKETIME_CACHE_DURATION: '1', FAKETIME_DONT_FAKE_MONOTONIC: '1' });
      // Listening from its first cached key on, the server reads the clock every 3 s.
      expect((await call(`${server.url}/api/v1/users/me`, tokens.bob)).status).toBe(200);
      const metrics = await metricsUrlOf(server);
      expect(Math.abs((await gaugeOf(metrics, 'keyward_clock_offset_seconds'))!)).toBeLessThan(0.25);
      expect(server.stderr()).not.toContain('clock');

      writeFileSync(spec, '-5s\n');
      expect(await said(server.stderr, "Warning: this server's clock is 5.0 s behind the database's.", 20_000)).toBe(true);
      const off = await gaugeOf(metrics, 'keyward_clock_offset_seconds');
      expect(off).toBeGreaterThan(-5.25);
      expect(off).toBeLessThan(-4.75);

      writeFileSync(spec, '+0\n');
      expect(await said(server.stderr, "This server's clock is within", 20_000)).toBe(true);
      expect(server.stderr()).toMatch(/This server's clock is within \d+ ms of the database's again\.\n/);
      expect(Math.abs((await gaugeOf(metrics, 'keyward_clock_offset_seconds'))!)).toBeLessThan(0.25);
      // Told once each way.
      expect(server.stderr().match(/Warning: this server's clock/g)).toHaveLength(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
