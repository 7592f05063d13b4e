// What git knows about the files to scan: what is staged in the index (which
// files of a folder git would commit is core's filesOfFolder).

import { spawnSync } from 'node:child_process';
import { KeywardError } from '@keyward/core';

function git(cwd: string, args: string[], input?: Buffer): Buffer | undefined {
  const r = spawnSync('git', args, { cwd, input, maxBuffer: 1 << 30, stdio: ['pipe', 'pipe', 'pipe'] });
  if (r.error || r.status !== 0) return undefined;
  return r.stdout;
}

function zList(out: Buffer): string[] {
  return out.toString('utf8').split('\0').filter((p) => p !== '');
}

/** The top of the git work tree holding `dir`, or undefined outside one (or without git). */
export function workTreeOf(dir: string): string | undefined {
  const out = git(dir, ['rev-parse', '--show-toplevel']);
  const top = out?.toString('utf8').trim();
  return top ? top : undefined;
}

export interface StagedFile {
  /** Relative to the work tree's top. */
  path: string;
  blob: string;
}

/** Files added, copied, modified or renamed in the index (what the next commit adds), limited to `pathspecs`. */
export function stagedFiles(top: string, pathspecs: string[]): StagedFile[] {
  const names = git(top, ['diff', '--cached', '--name-only', '-z', '--no-renames', '--diff-filter=ACMRT', '--', ...pathspecs]);
  if (!names) throw new KeywardError('UNAVAILABLE', 'git could not list the staged files.');
  const paths = zList(names);
  if (paths.length === 0) return [];
  const wanted = new Set(paths);
  // The whole index, filtered here: naming thousands of paths could pass the argument limit.
  const staged = git(top, ['ls-files', '-s', '-z']);
  if (!staged) throw new KeywardError('UNAVAILABLE', 'git could not read the index.');
  const out: StagedFile[] = [];
  for (const entry of zList(staged)) {
    // "<mode> <blob> <stage>\t<path>"; gitlinks (submodules, mode 160000) hold no content here.
    const m = /^(\d+) ([0-9a-f]+) \d\t(.*)$/s.exec(entry);
    if (m && m[1] !== '160000' && wanted.has(m[3])) out.push({ path: m[3], blob: m[2] });
  }
  return out;
}

/** The contents of blobs, read through one `git cat-file --batch`. */
export function readBlobs(top: string, blobs: string[]): Map<string, Buffer> {
  const contents = new Map<string, Buffer>();
  if (blobs.length === 0) return contents;
  const out = git(top, ['cat-file', '--batch'], Buffer.from(blobs.join('\n') + '\n'));
  if (!out) throw new KeywardError('UNAVAILABLE', 'git could not read the staged contents.');
  let at = 0;
  for (const blob of blobs) {
    const headerEnd = out.indexOf(10, at);
    const header = out.toString('utf8', at, headerEnd).split(' ');
    if (header[1] === 'missing') {
      at = headerEnd + 1;
      continue;
    }
    const size = Number(header[2]);
    contents.set(blob, out.subarray(headerEnd + 1, headerEnd + 1 + size));
    at = headerEnd + 1 + size + 1;
  }
  return contents;
}
