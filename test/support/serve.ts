// A real `keyward serve` on a loopback port for end-to-end tests; every one
// started is stopped when the test file ends.
import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll } from 'vitest';
import { cleanEnv, keywardBin } from './keyward.js';

const servers: ChildProcess[] = [];
afterAll(() => {
  for (const s of servers) s.kill('SIGTERM');
});

/** Starts `keyward serve --port 0` (with `extra` options) and resolves with the URL it announces. */
export function startServe(store: string, extra: string[] = []): Promise<{ url: string; child: ChildProcess; stdout: () => string }> {
  const child = spawn(process.execPath, [keywardBin, 'serve', '--port', '0', '--store', store, ...extra], { env: cleanEnv({ KEYWARD_USER: 'alice' }) });
  servers.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      err += d;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(err);
      if (m) resolve({ url: m[1], child, stdout: () => out });
    });
    child.on('exit', (code) => reject(new Error(`keyward serve exited ${code}: ${err}`)));
  });
}
