// Runs the built `keyward` command as a real process, the way a user or a
// script does, and hands back what it printed and its exit code.
import { spawnSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BACKSTOP_MS, withHangReport } from './hang-report.js';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const keywardBin = join(repoRoot, 'packages/cli/dist/keyward.js');

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Environment without any KEYWARD_* of the machine running the tests. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('KEYWARD_')) delete env[k];
  return { ...env, NO_COLOR: '1', ...extra };
}

/** Runs a command to its end; one still running after 75 s is killed, and its stderr says what it was waiting on (hang-report.ts). */
export function keyward(args: string[], env: Record<string, string>): Result {
  const { result: r, hang } = withHangReport(process.execPath, [keywardBin, ...args], (command, argv) =>
    spawnSync(command, argv, { env: cleanEnv(env), encoding: 'utf8', timeout: BACKSTOP_MS }),
  );
  return { code: r.status ?? -1, stdout: r.stdout, stderr: hang === undefined ? r.stderr : `${r.stderr}\n${hang}` };
}

export function keywardAsync(args: string[], env: Record<string, string>): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [keywardBin, ...args], { env: cleanEnv(env) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

export function tempDir(prefix = 'keyward-e2e-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** The `(CODE)` at the end of a refusal line. */
export function codeOf(r: Result): string | undefined {
  const m = /\(([A-Z_]+)\)\s*$/.exec(r.stderr.trim());
  return m?.[1];
}

/** What a refused command said: its JSON error when run with --json (`json`), else its code and its stderr. */
export function refusalOf(r: Result, json: boolean): { code?: string; message: string } {
  return json ? (JSON.parse(r.stdout) as { error: { code: string; message: string } }).error : { code: codeOf(r), message: r.stderr };
}

/** A directory holding a `keyward` command that runs the built one, to put first on PATH as an installed keyward would be. */
export function keywardBinDir(): string {
  const dir = tempDir('keyward-bin-');
  writeFileSync(join(dir, 'keyward'), `#!/bin/sh\nexec "${process.execPath}" "${keywardBin}" "$@"\n`);
  chmodSync(join(dir, 'keyward'), 0o755);
  return dir;
}
