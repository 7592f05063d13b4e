// The terminal UI, measured as a person meets it: the built `keyward` in a
// real pseudo-terminal (node-pty), timed from a key written to the terminal
// to the frame that shows its effect arriving back, and from start to the
// first frame with the key list.
//   keystroke → frame with 100 000 keys in the store, against 100 keys, in
//     the same run, keys alternating between the two (goal: ≤ 1.5×);
//   start → first frame of the key list, against the smallest Ink app
//     (bench/tui.baseline.mjs) started alternately in the same run (goal: ≤ 2×).
// Run: node --import tsx bench/tui.ts [--quick]   (build keyward first)
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as pty from 'node-pty';
import { buildStore } from './fixtures.js';
import { median, quick, report } from './lib.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const keyward = root + 'packages/cli/dist/keyward.js';
const baselineApp = root + 'bench/tui.baseline.mjs';
if (!existsSync(keyward)) throw new Error(`Build keyward first (node scripts/build.mjs): ${keyward} is missing.`);

const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b\][^\u0007]*\u0007/g;
const FRAME_END = '\u001b[?2026l';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function env(): Record<string, string> {
  const e: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('KEYWARD_') && k !== 'CI' && !k.startsWith('CI_') && k !== 'TMUX') e[k] = v;
  return { ...e, TERM: 'xterm-256color' };
}

/** A program in a pseudo-terminal, its output kept so far. */
class Term {
  readonly proc: pty.IPty;
  out = '';
  private waiters: (() => void)[] = [];
  readonly exited: Promise<void>;

  constructor(args: string[]) {
    this.proc = pty.spawn(process.execPath, args, { cols: 80, rows: 24, cwd: root, env: env() });
    this.proc.onData((d) => {
      this.out += d;
      for (const w of this.waiters.splice(0)) w();
    });
    this.exited = new Promise((r) => this.proc.onExit(() => r()));
  }

  /** Resolves when `ok` holds for the output since `from`; the time it first held. */
  async until(from: number, ok: (text: string) => boolean, ms = 60_000): Promise<number> {
    const deadline = performance.now() + ms;
    for (;;) {
      if (ok(this.out.slice(from))) return performance.now();
      if (performance.now() > deadline) throw new Error(`timed out; last output: ${JSON.stringify(this.out.slice(-300))}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }

  async quit(): Promise<void> {
    this.proc.write('q');
    await Promise.race([this.exited, sleep(3000)]);
    try {
      this.proc.kill();
    } catch {
      // gone
    }
  }
}

/** The last whole frame in some output, as text. */
function lastFrame(out: string): string {
  const end = out.lastIndexOf(FRAME_END);
  if (end < 0) return '';
  const start = out.lastIndexOf('\u001b[?2026h', end);
  return out.slice(start < 0 ? 0 : start, end).replace(ANSI, '');
}

const listed = (total: number, position: number) => (text: string) => {
  const frame = lastFrame(text);
  // The cursor row is drawn with its key, not as a row still being fetched.
  return frame.includes(`${position.toLocaleString('en-US')}/${total.toLocaleString('en-US')} keys`) && /›\s+service key \d+/.test(frame);
};

// ---- keystroke to frame ----

const SIZES = [100, 100_000];
const KEYSTROKES = quick ? 60 : 200;
const sessions = new Map<number, { term: Term; total: number; position: number }>();
for (const size of SIZES) {
  const built = buildStore(size);
  const term = new Term([keyward, '--store', built.path, '--as', 'admin']);
  await term.until(0, listed(size, 1));
  sessions.set(size, { term, total: size, position: 1 });
}

// Down mostly, a page now and then, and back up: windows move and are fetched.
const plan = Array.from({ length: KEYSTROKES }, (_, i) => (i % 25 === 24 ? 'pagedown' : i % 10 === 9 ? 'up' : 'down'));
const latencies = new Map<number, number[]>(SIZES.map((s) => [s, []]));
for (let i = 0; i < plan.length; i++) {
  const order = i % 2 ? [...SIZES].reverse() : SIZES;
  for (const size of order) {
    const s = sessions.get(size)!;
    const step = plan[i];
    const room = Math.min(s.total, 100) - 1; // the 100-key list wraps back to the top
    if (s.position > room) {
      s.term.proc.write('g');
      s.position = 1;
      await s.term.until(s.term.out.length - 1, listed(s.total, 1));
    }
    const before = s.position;
    s.position = step === 'down' ? before + 1 : step === 'up' ? Math.max(1, before - 1) : Math.min(s.total, before + 17);
    const from = s.term.out.length;
    const t0 = performance.now();
    s.term.proc.write(step === 'down' ? 'j' : step === 'up' ? 'k' : '\u001b[6~');
    const t1 = await s.term.until(from, listed(s.total, s.position));
    latencies.get(size)!.push(t1 - t0);
    // Past Ink's frame throttle (30 per second), so every key starts a fresh frame.
    await sleep(40);
  }
}
for (const s of sessions.values()) await s.term.quit();
const small = median(latencies.get(100)!);
const large = median(latencies.get(100_000)!);
report({
  measure: 'tui keystroke to frame, 100k keys',
  value: Math.round(large * 100) / 100,
  baseline: Math.round(small * 100) / 100,
  unit: 'ms (median)',
  ratio: Math.round((large / small) * 100) / 100,
  goal: '<= 1.5',
  against: 'the same keys with 100 keys in the store, alternating, same run',
});
// The slow keys too: those that wait for a window to be fetched, or for a poll.
const p90 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)];
const smallTail = p90(latencies.get(100)!);
const largeTail = p90(latencies.get(100_000)!);
report({
  measure: 'tui keystroke to frame, 100k keys, 90th percentile',
  value: Math.round(largeTail * 100) / 100,
  baseline: Math.round(smallTail * 100) / 100,
  unit: 'ms (90th percentile)',
  ratio: Math.round((largeTail / smallTail) * 100) / 100,
  goal: '<= 1.5',
  against: 'the same keys with 100 keys in the store, alternating, same run',
});

// ---- start to first frame ----

const ROUNDS = quick ? 5 : 11;
const start = buildStore(100);
const starts = { keyward: [] as number[], ink: [] as number[] };
for (let r = 0; r < ROUNDS; r++) {
  for (const who of r % 2 ? (['ink', 'keyward'] as const) : (['keyward', 'ink'] as const)) {
    const t0 = performance.now();
    const term = new Term(who === 'keyward' ? [keyward, '--store', start.path, '--as', 'admin'] : [baselineApp]);
    const t1 = await term.until(0, who === 'keyward' ? listed(100, 1) : (text) => text.includes('Hello from Ink'));
    starts[who].push(t1 - t0);
    await term.quit();
  }
}
const ours = median(starts.keyward);
const ink = median(starts.ink);
report({
  measure: 'tui start to first frame',
  value: Math.round(ours),
  baseline: Math.round(ink),
  unit: 'ms (median)',
  ratio: Math.round((ours / ink) * 100) / 100,
  goal: '<= 2',
  against: 'the smallest Ink app (one Text), started alternately in the same run',
});
