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
  /** The exit code (null when killed by a signal), once every line it printed is in `lines`; stderr is printed on a failure. */
  exited: Promise<number | null>;
}

/**
 * `timed`: a child whose reaction time a test holds to a bound. It runs at a
 * higher scheduling priority (nice -10, every thread of it; where that is not
 * allowed, `nice` says so on stderr and runs it as usual), so the bound
 * measures the store and not the busy loops, benches and other test files
 * the machine runs beside it: on 2 shared cores a child at the usual
 * priority can wait hundreds of ms for a turn, which no store can shorten.
 */
export function startChild(script: string, args: readonly string[], stdin: 'ignore' | 'pipe' = 'ignore', opts: { timed?: boolean } = {}): Child {
  const node = [process.execPath, '--import', 'tsx', script, ...args];
  const [command, ...rest] = opts.timed ? ['nice', '-n', '-10', ...node] : node;
  const child = spawn(command!, rest, { cwd: root, stdio: [stdin, 'pipe', 'pipe'] });
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
  // 'close', not 'exit': a child's last lines can still be in its stdout pipe
  // when its exit is told (under load, a writer's last 4 acks were), and a
  // test reads `lines` once `exited` resolves.
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code) => {
      if (code !== 0 && code !== null) console.error(err);
      resolve(code);
    }),
  );
  return { child, lines, acked, exited };
}
