// A real child process for the store tests (tsx script), its stdout kept line
// by line as it arrives, so a test knows exactly what the child had
// acknowledged at the moment it is killed.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../..', import.meta.url));

let realTime: boolean | undefined;
/** Whether `chrt -r` may run a command here (it refuses, and runs nothing, where the policy is not allowed): asked once. */
function mayRunRealTime(): boolean {
  realTime ??= spawnSync('chrt', ['-r', '10', 'true'], { stdio: 'ignore' }).status === 0;
  return realTime;
}

/**
 * Runs `work` with this process as a timed child runs (see startChild), for a
 * test whose own process is the one whose reaction a bound holds (a revoke by
 * another process refused here within 100 ms): every thread of it (the event
 * loop, libuv's threadpool) under SCHED_RR where the machine allows it, back
 * to the usual policy afterwards; where real time is not allowed, `work` runs
 * as usual. A child spawned meanwhile would inherit the policy: start the
 * test's other processes before.
 */
export async function timedHere<T>(work: () => Promise<T>): Promise<T> {
  if (!mayRunRealTime()) return work();
  const threads = () => readdirSync('/proc/self/task');
  const policy = (args: string[]) => {
    for (const tid of threads()) spawnSync('chrt', [...args, tid], { stdio: 'ignore' });
  };
  policy(['-r', '-p', '10']);
  try {
    return await work();
  } finally {
    policy(['-o', '-p', '0']);
  }
}

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
 * `timed`: a child whose reaction time a test holds to a bound. It runs
 * under a real-time policy (SCHED_RR, every thread of it) where the machine
 * allows one (root, or an RLIMIT_RTPRIO), else at nice -10, so the bound
 * measures the store and not the busy loops, benches and other test files
 * the machine runs beside it: on 2 shared cores a child at the usual
 * priority can wait hundreds of ms for a turn, which no store can shorten.
 * nice -10 was not enough: it weighs a process only against the others of
 * its scheduling group (a session's autogroup), and at load 15-25 a watcher
 * at nice -10 still waited for a CPU 100-380 ms at times (its event loop
 * stalled 145 ms, 139 ms of it runnable but not running, by
 * /proc/thread-self/schedstat), while its catch-up itself took under 1 ms.
 * Such a child mostly waits for events: it takes little of the CPU it is
 * given at once.
 */
export function startChild(script: string, args: readonly string[], stdin: 'ignore' | 'pipe' = 'ignore', opts: { timed?: boolean } = {}): Child {
  const node = [process.execPath, '--import', 'tsx', script, ...args];
  const [command, ...rest] = opts.timed ? [...(mayRunRealTime() ? ['chrt', '-r', '10'] : ['nice', '-n', '-10']), ...node] : node;
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
