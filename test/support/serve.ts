// A real `keyward serve` on a loopback port for end-to-end tests; every one
// started is stopped when the test file ends.
import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll } from 'vitest';
import { cleanEnv, keywardBin } from './keyward.js';
import { announcedUrl } from './announced-url.js';

const servers: ChildProcess[] = [];
afterAll(() => {
  for (const s of servers) s.kill('SIGTERM');
});

/** Starts `keyward serve --port 0` (with `extra` options, and `env` over the test's own) and resolves with the URL it announces. */
export function startServe(store: string, extra: string[] = [], env: Record<string, string> = {}): Promise<{ url: string; child: ChildProcess; stdout: () => string; stderr: () => string }> {
  const child = spawn(process.execPath, [keywardBin, 'serve', '--port', '0', '--store', store, ...extra], { env: cleanEnv({ KEYWARD_USER: 'alice', ...env }) });
  servers.push(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  const announced = announcedUrl(child);
  return announced.url.then((url) => ({ url, child, stdout: () => out, stderr: announced.stderr }));
}

/** Stops a server started here (SIGTERM) and resolves once it has exited, its usage flushed and its store closed. */
export function stopServe(child: ChildProcess): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done();
    child.once('exit', () => done());
    child.kill('SIGTERM');
  });
}

/** The metrics' URL a server started with --metrics-port announces on stderr ("Metrics for Prometheus at URL"). */
export async function metricsUrlOf(server: { stderr: () => string }): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const m = /Metrics for Prometheus at (http:\/\/\S+)\n/.exec(server.stderr());
    if (m) return m[1];
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no metrics URL announced: ${server.stderr()}`);
}
