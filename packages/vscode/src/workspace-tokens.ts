// Where a key's token sits in a workspace folder, for Rotate API Key to put
// the new token in its place. The files searched are the ones git would
// commit (so build output and node_modules are skipped as .gitignore says),
// plus every .env file even when it is ignored: that is where tokens are
// meant to live. Outside a git work tree the folder is walked as keyward scan
// walks it (its .gitignore files honoured, .git skipped), and node_modules
// skipped too. Tokens are recognised by prefix and checksum (core's
// token scan), and only those whose key id is the rotated key's are kept:
// the old token itself is known only by being found.

import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { basename, join } from 'node:path';
import { filesOfFolder, findTokens as findTokensInBytes } from '@keyward/core';
import { findTokens } from './token-findings.js';

/** One occurrence of the token in a file's text. */
export interface TokenSpot {
  /** Offsets in the file's text (characters, as an editor counts them). */
  start: number;
  end: number;
  /** 1-based. */
  line: number;
}

export interface FileWithToken {
  /** The file's absolute path. */
  file: string;
  /** As shown: relative to the workspace folder, with / separators. */
  path: string;
  spots: TokenSpot[];
  /** Open in an editor with unsaved changes: a token is never put there (see editor/workspace-tokens.ts). */
  unsaved?: boolean;
}

/** Larger files are not searched: a token to rotate lives in configuration and source, not in dumps. */
export const MAX_FILE_BYTES = 8 * 1024 * 1024;

/** `.env`, `.env.local`, `prod.env`: files that hold secrets by convention. */
export function isEnvFile(path: string): boolean {
  const name = basename(path);
  return /^\.env(\..+)?$/.test(name) || /\.env$/.test(name);
}

/** Every occurrence of a token of key `keyId` in `text`. */
export function spotsOfKey(text: string, keyId: string): TokenSpot[] {
  const spots: TokenSpot[] = [];
  let line = 1;
  let nl = text.indexOf('\n');
  for (const f of findTokens(text)) {
    if (f.keyId !== keyId) continue;
    // Lines are counted once, walking forward: tokens come in order.
    while (nl !== -1 && nl < f.start) {
      line++;
      nl = text.indexOf('\n', nl + 1);
    }
    spots.push({ start: f.start, end: f.end, line });
  }
  return spots;
}

/** `text` with `token` over every token of key `keyId`, and how many were replaced. */
export function withTokenReplaced(text: string, keyId: string, token: string): { text: string; replaced: number } {
  const spots = spotsOfKey(text, keyId);
  // From the last spot back, so the earlier offsets still hold.
  return { text: spots.reduceRight((t, s) => t.slice(0, s.start) + token + t.slice(s.end), text), replaced: spots.length };
}

/**
 * The folder's files to search, relative to it: as git would commit them (core's, as keyward scan reads them),
 * ignored .env files too, never node_modules outside git. `onGitFailed`: core walked a folder git could not list.
 */
export function filesToSearch(folder: string, onGitFailed?: (why: string) => void): Promise<string[]> {
  return filesOfFolder(folder, { skipFolders: ['node_modules'], keepIgnored: isEnvFile, onGitFailed });
}

/**
 * The file's text when it is a regular file (not a link), of searchable
 * size, text (no NUL byte) and holds a token of the key; else undefined.
 * Bytes are searched first, so most files are never decoded.
 */
export function readIfHoldsKey(path: string, keyId: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return undefined; // gone, a link, or unreadable
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > MAX_FILE_BYTES) return undefined;
    const bytes = Buffer.allocUnsafe(st.size);
    let n = 0;
    while (n < st.size) {
      const r = readSync(fd, bytes, n, st.size - n, n);
      if (r === 0) break;
      n += r;
    }
    const data = bytes.subarray(0, n);
    if (!findTokensInBytes(data).some((t) => t.keyId === keyId) || data.includes(0)) return undefined;
    return data.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/**
 * Every file of the folder holding a token of key `keyId`. `openText` gives
 * the text of a file the editor holds (it may differ from the disk, unsaved);
 * such a file is judged by that text. `onGitFailed`: git could not list the
 * folder's files, so they were found by its .gitignore files (core decides).
 */
export async function findKeyInFolder(
  folder: string,
  keyId: string,
  openText: (path: string) => string | undefined = () => undefined,
  onGitFailed?: (why: string) => void,
): Promise<FileWithToken[]> {
  const found: FileWithToken[] = [];
  const files = await filesToSearch(folder, onGitFailed);
  for (let i = 0; i < files.length; i++) {
    // The extension host runs every extension: a large workspace is read in turns, not in one block.
    if (i % 256 === 255) await new Promise((r) => setImmediate(r));
    const rel = files[i];
    const abs = join(folder, rel);
    const text = openText(abs) ?? readIfHoldsKey(abs, keyId);
    if (text === undefined) continue;
    const spots = spotsOfKey(text, keyId);
    if (spots.length > 0) found.push({ file: abs, path: rel, spots });
  }
  return found.sort((a, b) => (isEnvFile(b.path) ? 1 : 0) - (isEnvFile(a.path) ? 1 : 0) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
