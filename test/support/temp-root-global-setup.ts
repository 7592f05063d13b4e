// Vitest global setup of the whole run (the root config): every temporary
// file the run makes goes into one directory of its own, removed when the
// run ends. Tests make their stores, homes, PostgreSQL data directories and
// VS Code profiles with mkdtemp under os.tmpdir(), and most leave them: one
// full run left ~1,400 directories in /tmp. TMPDIR, set here before any
// worker starts, is what os.tmpdir() answers in the workers and in every
// process they start (`keyward`, servers, PostgreSQL, sshd, VS Code), so
// this reaches them all without each test cleaning up after itself.

import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const run = mkdtempSync(join(tmpdir(), 'keyward-run-'));
  // PostgreSQL runs as the `postgres` user under root (postgres-server.ts): it must be able to walk in.
  chmodSync(run, 0o755);
  const before = process.env.TMPDIR;
  process.env.TMPDIR = run;
  return () => {
    if (before === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = before;
    try {
      // Retried: a process a test started may still be writing there as it stops.
      rmSync(run, { recursive: true, force: true, maxRetries: 3 });
    } catch (e) {
      // A leftover (a tmpfs a failed test left mounted, say) is reported, not made the run's failure.
      console.warn(`The test run's temporary directory ${run} was not removed whole: ${(e as Error).message}`);
    }
  };
}
