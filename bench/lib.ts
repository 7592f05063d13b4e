// Shared by every benchmark: measure Keyward and its baseline interleaved in
// one run (these machines are noisy, so only ratios from the same run mean
// anything) and report one line per measure for bench/run.mjs to collect.

import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';

export interface Measure {
  measure: string;
  /** Keyward's figure. */
  value: number;
  /** The baseline's figure, measured in the same run. */
  baseline: number;
  unit: string;
  /** value / baseline, or the comparison the goal names. */
  ratio: number;
  /** e.g. ">= 0.7" or "<= 2". */
  goal: string;
  /** What the baseline is, in words. */
  against: string;
}

export const quick = process.argv.includes('--quick');

export function report(m: Measure): void {
  const ok = meets(m.ratio, m.goal);
  process.stdout.write(`BENCH ${JSON.stringify({ ...m, ok })}\n`);
}

export function meets(ratio: number, goal: string): boolean {
  const m = /^(>=|<=)\s*([\d.]+)$/.exec(goal.trim());
  if (!m) return false;
  return m[1] === '>=' ? ratio >= Number(m[2]) : ratio <= Number(m[2]);
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Operations per second of `fn`, run `ops` times. */
export function opsPerSecond(fn: (i: number) => void, ops: number): number {
  const t = process.hrtime.bigint();
  for (let i = 0; i < ops; i++) fn(i);
  const ns = Number(process.hrtime.bigint() - t);
  return (ops / ns) * 1e9;
}

/**
 * Runs each contender for `rounds` rounds, alternating between them, and
 * returns each one's median figure, so drift in machine load hits all alike.
 */
export function interleaved<K extends string>(rounds: number, contenders: Record<K, () => number>): Record<K, number> {
  const samples = Object.fromEntries(Object.keys(contenders).map((k) => [k, [] as number[]])) as unknown as Record<K, number[]>;
  const names = Object.keys(contenders) as K[];
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 ? [...names].reverse() : names;
    for (const k of order) samples[k].push(contenders[k]());
  }
  return Object.fromEntries(names.map((k) => [k, median(samples[k])])) as Record<K, number>;
}

export async function interleavedAsync<K extends string>(rounds: number, contenders: Record<K, () => Promise<number>>): Promise<Record<K, number>> {
  const names = Object.keys(contenders) as K[];
  const samples = Object.fromEntries(names.map((k) => [k, [] as number[]])) as unknown as Record<K, number[]>;
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 ? [...names].reverse() : names;
    for (const k of order) samples[k].push(await contenders[k]());
  }
  return Object.fromEntries(names.map((k) => [k, median(samples[k])])) as Record<K, number>;
}

/**
 * What /proc says of a process (or of one of its threads: /proc/PID/task/TID/stat)
 * at `statPath`: its name, its parent, and the CPU it has used so far in µs,
 * user and system (all its threads, for a process). Throws where it is gone.
 */
export function procStat(statPath: string): { name: string; parent: number; user: number; sys: number } {
  const raw = readFileSync(statPath, 'utf8');
  // After the name (which may hold spaces and parentheses) come the state, the parent's pid, ..., and utime and
  // stime, the 12th and 13th fields, in clock ticks of 10 ms on Linux.
  const f = raw.slice(raw.lastIndexOf(') ') + 2).split(' ');
  return { name: raw.slice(raw.indexOf('(') + 1, raw.lastIndexOf(')')), parent: Number(f[1]), user: Number(f[11]) * 10_000, sys: Number(f[12]) * 10_000 };
}

/**
 * CPU time a process has used so far, in µs (user + system, all its threads),
 * from /proc; undefined where there is no /proc. Per request, it says what a
 * server spends even when other load on the machine moves its requests/s.
 */
export function cpuMicros(pid: number): number | undefined {
  const at = `/proc/${pid}/stat`;
  if (!existsSync(at)) return undefined;
  const { user, sys } = procStat(at);
  return user + sys;
}

/**
 * CPU time, in µs, of a process and its children (a PostgreSQL postmaster:
 * its backends, WAL writer and checkpointer), from /proc; undefined where
 * there is no /proc. Children that ended meanwhile are not counted.
 */
export function treeCpuMicros(pid: number): number | undefined {
  const own = cpuMicros(pid);
  if (own === undefined) return undefined;
  let sum = own;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const child = procStat(`/proc/${name}/stat`);
      if (child.parent === pid) sum += child.user + child.sys;
    } catch {
      // Ended between the listing and the read.
    }
  }
  return sum;
}

/**
 * `children` (as the list is when this process ends) killed as it ends.
 * Servers outlive a bench unless killed: one that ended without its finally
 * (its output piped into `head`, which closes the pipe) left them running,
 * and their CPU in every later measure.
 */
export function killedOnExit(children: readonly ChildProcess[]): void {
  process.once('exit', () => children.forEach((c) => c.kill('SIGKILL')));
}
