// The stress suite's CI version: `pnpm stress` with 60 s of mixed load (four
// engine processes and three HTTP clients on one store) and 20 crash-loop
// kills, run as the real script. It exits 0 only when no invariant broke; the
// figures show that each kind of operation actually happened.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { cleanEnv, repoRoot } from './support/keyward.js';

interface StressSummary {
  failures: number;
  failureSamples: string[];
  mixed: { operations: Record<string, number>; httpStatuses: Record<string, number>; serverRssMiB: { start: number; end: number } };
  crash: { iterations: number; engineKills: number; serverKills: number; acknowledgedWrites: number };
}

function stress(args: string[]): Promise<{ code: number | null; summary?: StressSummary; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bench/stress.mjs', '--no-build', '--json', ...args], { cwd: repoRoot, env: cleanEnv() });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (err += d));
    child.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('STRESS '));
      resolve({ code, summary: line ? JSON.parse(line.slice(7)) : undefined, stderr: err });
    });
  });
}

describe('stress', () => {
  it('keeps every invariant under 60 s of mixed load and 20 SIGKILLs of writing processes', async () => {
    const r = await stress(['--seconds', '60', '--crashes', '20', '--fuzz-seconds', '0']);
    expect(r.summary, r.stderr).toBeDefined();
    const s = r.summary!;
    expect(s.failureSamples).toEqual([]);
    expect(s.failures).toBe(0);
    expect(r.code).toBe(0);
    // Every kind of operation ran, in the engine processes and over HTTP.
    for (const op of ['create', 'list', 'rename', 'revoke', 'delete', 'verify']) expect(s.mixed.operations[op], op).toBeGreaterThan(0);
    for (const status of ['200', '201', '204']) expect(s.mixed.httpStatuses[status], status).toBeGreaterThan(0);
    expect(Object.keys(s.mixed.httpStatuses).filter((k) => Number(k) >= 500)).toEqual([]);
    expect(s.mixed.serverRssMiB.start).toBeGreaterThan(0);
    expect(s.crash).toMatchObject({ iterations: 20, engineKills: 10, serverKills: 10 });
    expect(s.crash.acknowledgedWrites).toBeGreaterThan(20);
  }, 300_000);
});
