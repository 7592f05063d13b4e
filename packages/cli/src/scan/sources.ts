// Which files `keyward scan` reads: the files and folders given (a folder as
// git would commit it, else by its .gitignore files), or what is staged.

import { statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { type GitFailed, KeywardError, filesOfFolder, printable } from '@keyward/core';
import { readBlobs, stagedFiles, workTreeOf } from './git.js';
import { type TokenInFile, tokensInBytes, tokensInFile } from './read-file.js';

export interface ScannedFile {
  /** As a person would type it from the current folder. */
  path: string;
  tokens: TokenInFile[];
}

/** Files of the working tree (`paths`, default the current folder); only files holding a token are returned. */
export async function scanPaths(paths: string[]): Promise<{ files: ScannedFile[]; scanned: number; gitFailed: GitFailed[] }> {
  const scratch = { buffer: Buffer.allocUnsafe(1 << 20) };
  const files: ScannedFile[] = [];
  const gitFailed: GitFailed[] = [];
  let scanned = 0;
  const scan = (path: string, given = false) => {
    scanned++;
    let tokens: TokenInFile[];
    try {
      tokens = tokensInFile(path, scratch, given);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // Listed but gone (deleted, not yet staged), a link, or not readable: nothing to find in it.
      if (code === 'ENOENT' || code === 'ELOOP' || code === 'EACCES' || code === 'EISDIR') return;
      throw e;
    }
    if (tokens.length > 0) files.push({ path, tokens });
  };
  for (const given of paths.length > 0 ? paths : ['.']) {
    let st;
    try {
      st = statSync(given);
    } catch {
      throw new KeywardError('INVALID_INPUT', `There is no file or folder "${printable(given)}" to scan.`);
    }
    if (!st.isDirectory()) {
      scan(given, true);
      continue;
    }
    const onGitFailed = (why: string) => gitFailed.push({ folder: given, why });
    for (const rel of await filesOfFolder(given, { onGitFailed })) scan(given === '.' ? rel : join(given, rel));
  }
  return { files, scanned, gitFailed };
}

/** What is staged in the git index of the current folder's work tree (limited to `paths` when given). */
export function scanStaged(paths: string[]): { files: ScannedFile[]; scanned: number } {
  const cwd = process.cwd();
  const top = workTreeOf(cwd);
  if (!top) throw new KeywardError('INVALID_INPUT', '--staged needs a git work tree; this folder is not in one.');
  const staged = stagedFiles(top, paths.map((p) => ':(literal)' + (relative(top, resolve(p)) || '.')));
  const blobs = readBlobs(top, [...new Set(staged.map((s) => s.blob))]);
  const files: ScannedFile[] = [];
  for (const s of staged) {
    const bytes = blobs.get(s.blob);
    const tokens = bytes ? tokensInBytes(bytes) : [];
    if (tokens.length > 0) files.push({ path: relative(cwd, join(top, s.path)), tokens });
  }
  return { files, scanned: staged.length };
}
