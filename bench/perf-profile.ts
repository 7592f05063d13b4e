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
import { join } from 'node:path';

/** The node options a process to profile starts with: the jitdump, and unwinding info so perf can walk JavaScript frames. */
export const PERF_NODE_FLAGS = ['--perf-prof', '--perf-prof-unwinding-info'];

/** Samples CPU time of `pids` for `seconds`, into DIR/perf.data. */
export function recordPerf(dir: string, pids: readonly number[], seconds: number): ChildProcess {
  const perf = spawn('perf', ['record', '-k', '1', '-e', 'cpu-clock', '-F', '1999', '-g', '-p', pids.join(','), '-o', join(dir, 'perf.data'), '--', 'sleep', String(seconds)], { stdio: 'ignore' });
  perf.once('error', (e) => {
    throw new Error(`--perf needs perf (Debian: apt-get install linux-perf): ${e.message}`);
  });
  return perf;
}

/** Each sample's call chain, leaf first, as perf script prints it. */
function samplesOf(dir: string): string[][] {
  // The recording names each jitdump by the path the process wrote it at (its working directory, DIR).
  execFileSync('perf', ['inject', '--jit', '-i', join(dir, 'perf.data'), '-o', join(dir, 'perf.jit.data')], { cwd: dir, stdio: 'ignore' });
  const text = execFileSync('perf', ['script', '-i', join(dir, 'perf.jit.data'), '-F', 'tid,ip,sym', '--no-inline'], { cwd: dir, maxBuffer: 1 << 30, encoding: 'utf8' });
  const samples: string[][] = [];
  let frames: string[] | undefined;
  for (const line of text.split('\n')) {
    if (line.trim() === '') {
      if (frames) samples.push(frames);
      frames = undefined;
    } else if (!line.startsWith('\t')) frames = [];
    else frames?.push(line.trim().replace(/^\S+\s*/, '') || '[unknown]');
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
  const usPerSample = 1e6 / 1999 / requests;
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
