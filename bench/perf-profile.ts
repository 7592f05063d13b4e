// Where processes spend their CPU, by function, in microseconds per request:
// Linux `perf` sampling CPU time (cpu-clock), with V8's jitdump for the names
// of JavaScript functions (bench/mix-probe.ts --perf DIR).
//
// V8's own profiler (--cpu-prof) samples wall time: a function that was
// running when the scheduler gave the CPU to another process is charged for
// the wait, so on a loaded two-core machine writev (which wakes the reader
// of the socket) took half of every profile. perf counts only time on a CPU.
// The jitdump (node --perf-prof) names each piece of compiled code where it
// was, when it was; the perf map of --perf-basic-prof kept the first name
// for addresses V8 later reused. Needs perf (Debian: linux-perf) and root or
// kernel.perf_event_paranoid ≤ 1.

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Samples a second per thread: an odd rate, so it does not beat with timers that fire every whole millisecond. */
const SAMPLE_HZ = 1999;

/** The node options a process to profile starts with: the jitdump, and unwinding info so perf can walk JavaScript frames. */
export const PERF_NODE_FLAGS = ['--perf-prof', '--perf-prof-unwinding-info'];

/** Samples CPU time of `pids` for `seconds`, into DIR/perf.data. */
export function recordPerf(dir: string, pids: readonly number[], seconds: number): ChildProcess {
  const perf = spawn('perf', ['record', '-k', '1', '-e', 'cpu-clock', '-F', String(SAMPLE_HZ), '-g', '-p', pids.join(','), '-o', join(dir, 'perf.data'), '--', 'sleep', String(seconds)], { stdio: 'ignore' });
  perf.once('error', (e) => {
    throw new Error(`--perf needs perf (Debian: apt-get install linux-perf): ${e.message}`);
  });
  return perf;
}

/** A piece of compiled code as a jitdump names it: where it was from `at` (CLOCK_MONOTONIC ns, perf's clock under `-k 1`). */
interface JitCode {
  start: number;
  end: number;
  at: number;
  name: string;
}

const PAGE = 4096;

/**
 * The process's compiled code by page, from its jitdump (DIR/jit-PID.dump,
 * the format of the kernel's tools/perf/Documentation/jitdump-specification.txt):
 * each code load (record 0) and move (record 1), with the time it happened,
 * so a sample resolves to the code that was at its address at its time.
 */
function jitCodeOf(path: string): Map<number, JitCode[]> {
  const byPage = new Map<number, JitCode[]>();
  const add = (c: JitCode) => {
    for (let page = Math.floor(c.start / PAGE); page <= Math.floor((c.end - 1) / PAGE); page++) {
      const list = byPage.get(page);
      if (list) list.push(c);
      else byPage.set(page, [c]);
    }
  };
  let dump: Buffer;
  try {
    dump = readFileSync(path);
  } catch {
    return byPage;
  }
  const named = new Map<number, string>(); // code index → name, for moves
  for (let at = dump.readUInt32LE(8); at + 16 <= dump.length; ) {
    const [id, size, time] = [dump.readUInt32LE(at), dump.readUInt32LE(at + 4), Number(dump.readBigUInt64LE(at + 8))];
    if (size < 16 || at + size > dump.length) break; // the last record cut short as the process stopped
    if (id === 0) {
      const [start, length, index] = [Number(dump.readBigUInt64LE(at + 32)), Number(dump.readBigUInt64LE(at + 40)), Number(dump.readBigUInt64LE(at + 48))];
      const name = dump.toString('utf8', at + 56, dump.indexOf(0, at + 56));
      named.set(index, name);
      add({ start, end: start + length, at: time, name });
    } else if (id === 1) {
      const [start, length, index] = [Number(dump.readBigUInt64LE(at + 40)), Number(dump.readBigUInt64LE(at + 48)), Number(dump.readBigUInt64LE(at + 56))];
      add({ start, end: start + length, at: time, name: named.get(index) ?? '[moved code]' });
    }
    at += size;
  }
  return byPage;
}

/** The code at `ip` at `time`: the latest to arrive there no later than the sample. */
function codeAt(code: Map<number, JitCode[]>, ip: number, time: number): string | undefined {
  let found: JitCode | undefined;
  for (const c of code.get(Math.floor(ip / PAGE)) ?? []) if (c.start <= ip && ip < c.end && c.at <= time && (!found || c.at > found.at)) found = c;
  return found?.name;
}

/**
 * Each sample's call chain, leaf first: perf script's names, and for code
 * perf cannot name (V8's, in anonymous memory) the jitdump's. perf inject
 * --jit would do this, but the perf here (6.1) then loaded no symbols from
 * most of the files it wrote ("with build id … not found").
 */
function samplesOf(dir: string): string[][] {
  const text = execFileSync('perf', ['script', '-i', join(dir, 'perf.data'), '-F', 'pid,tid,time,ip,sym', '--no-inline'], { cwd: dir, maxBuffer: 1 << 30, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const codeOf = new Map<number, Map<number, JitCode[]>>();
  const samples: string[][] = [];
  let frames: string[] | undefined;
  let code: Map<number, JitCode[]> = new Map();
  let time = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') {
      if (frames) samples.push(frames);
      frames = undefined;
      continue;
    }
    if (!line.startsWith('\t')) {
      // "PID/TID  SECONDS.MICROS:"
      const m = /^\s*(\d+)\/\d+\s+(\d+)\.(\d+):/.exec(line);
      if (!m) continue;
      const pid = Number(m[1]);
      if (!codeOf.has(pid)) codeOf.set(pid, jitCodeOf(join(dir, `jit-${pid}.dump`)));
      code = codeOf.get(pid)!;
      time = Number(m[2]) * 1e9 + Number(m[3].padEnd(9, '0'));
      frames = [];
      continue;
    }
    const m = /^\s*([0-9a-f]+)\s+(.*)$/.exec(line);
    if (!m || !frames) continue;
    const sym = m[2].trim();
    frames.push(sym === '[unknown]' ? (codeAt(code, Number.parseInt(m[1], 16), time) ?? '[unknown]') : sym);
  }
  if (frames) samples.push(frames);
  return samples;
}

// A function as `name path:line:column`, the path from the checkout's packages/ or the package's own directory.
const shortName = (frame: string) => frame.replace(/(file:\/\/)?\/\S*\/(?=packages\/)/, '').replace(/\/\S*\/node_modules\/(\.pnpm\/[^/]+\/node_modules\/)?/, '');

/**
 * The profile recorded in DIR as lines to print: the functions that used the
 * most CPU themselves (self) and the JavaScript functions under which the most
 * was used (inclusive), each in µs per request over `requests`.
 */
export function perfSummary(dir: string, requests: number, rows = 25): string[] {
  const samples = samplesOf(dir);
  const usPerSample = 1e6 / SAMPLE_HZ / requests;
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const frames of samples) {
    const leaf = shortName(frames[0] ?? '[unknown]');
    self.set(leaf, (self.get(leaf) ?? 0) + 1);
    for (const f of new Set(frames.filter((f) => f.startsWith('JS:')).map(shortName))) inclusive.set(f, (inclusive.get(f) ?? 0) + 1);
  }
  const top = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, rows).map(([name, n]) => `    ${(n * usPerSample).toFixed(2).padStart(8)}  ${name}`);
  return [
    `  perf: ${samples.length} samples, ${(samples.length * usPerSample).toFixed(1)} µs per request in the servers; by function, µs per request:`,
    '  self:',
    ...top(self),
    '  inclusive (JavaScript):',
    ...top(inclusive),
  ];
}
