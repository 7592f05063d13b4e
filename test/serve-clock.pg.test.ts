// Two `keyward serve` on one real PostgreSQL, one of them on a clock set five
// seconds back (libfaketime, LD_PRELOAD: the process's own clock, nothing of
// the machine's). Each server decides expiry by its own clock, so the one
// behind accepts a key up to five seconds past its expiry: it says so on
// stderr as it starts, and its metrics show how far it is off
// (keyward_clock_offset_seconds), read against the database's clock; the
// other, whose clock is the database's, says nothing and shows about zero.

import { existsSync } from 'node:fs';
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

/** Waits for `text` on a server's stderr (10 s at most), and says whether it came. */
async function said(stderr: () => string, text: string): Promise<boolean> {
  for (let at = Date.now(); Date.now() - at < 10_000; await new Promise((r) => setTimeout(r, 50))) if (stderr().includes(text)) return true;
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
});
