// A real child process for the store tests (tsx script), its stdout kept line
// by line as it arrives, so a test knows exactly what the child had
// acknowledged at the moment it is killed.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../..', import.meta.url));

export interface Child {
  child: ChildProcess;
  /** Every whole line printed so far. */
  lines: string[];
  /** The ids of `ack <id>` lines so far. */
  acked: string[];
  /** The exit code (null when killed by a signal); stderr is printed on a failure. */
  exited: Promise<number | null>;
}

export function startChild(script: string, args: readonly string[], stdin: 'ignore' | 'pipe' = 'ignore'): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: root, stdio: [stdin, 'pipe', 'pipe'] });
  const lines: string[] = [];
  const acked: string[] = [];
  let buf = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      lines.push(line);
      if (line.startsWith('ack ')) acked.push(line.slice(4));
    }
  });
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      if (code !== 0 && code !== null) console.error(err);
      resolve(code);
    }),
  );
  return { child, lines, acked, exited };
}
