// Starts the real `keyward serve` (the built command, as shipped) on a
// loopback port picked by the system, and watches it: its request log
// (counting 5xx answers and any token text), and its memory.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TOKEN_TEXT } from './ledger.js';
import { eachLine } from './lines.js';
import { announcedUrl } from '../../test/support/announced-url.js';

export const keywardBin = fileURLToPath(new URL('../../packages/cli/dist/keyward.js', import.meta.url));

export interface Served {
  url: string;
  child: ChildProcess;
  /** Log lines seen, 5xx answers among them, and whether any line held token text. */
  log: { lines: number; serverErrors: number; tokenText: boolean };
  stderr(): string;
  /** Resident memory in MiB, from /proc. */
  rssMiB(): number;
  /** SIGTERM, then the exit code (the server flushes usage first). */
  stop(): Promise<number | null>;
}

export function startServe(store: string, env: Record<string, string> = {}): Promise<Served> {
  if (!existsSync(keywardBin)) throw new Error(`${keywardBin} is missing; run node scripts/build.mjs`);
  const child = spawn(process.execPath, [keywardBin, 'serve', '--port', '0', '--store', store], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, KEYWARD_USER: 'admin', NO_COLOR: '1', ...env },
  });
  const log = { lines: 0, serverErrors: 0, tokenText: false };
  eachLine(child.stdout!, (line) => {
    log.lines++;
    if (/"status":5\d\d/.test(line)) log.serverErrors++;
    if (TOKEN_TEXT.test(line)) log.tokenText = true;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const announced = announcedUrl(child);
  return announced.url.then((url) => ({
    url,
    child,
    log,
    stderr: announced.stderr,
    rssMiB: () => rssMiB(child.pid!),
    stop: () => {
      child.kill('SIGTERM');
      return exited;
    },
  }));
}

export function rssMiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : 0;
  } catch {
    return 0;
  }
}
