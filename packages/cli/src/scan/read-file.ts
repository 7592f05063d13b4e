// Reads a file for scanning: whole when it is of ordinary size, in chunks
// when it is large, so one huge log cannot exhaust memory. Tokens that cross
// a chunk boundary are still found: each chunk is searched together with the
// tail of the one before it.

import { closeSync, fstatSync, openSync, readSync, constants } from 'node:fs';
import { type LinePosition, LineCounter, TOKEN_LENGTH, findTokens } from '@keyward/core';

export interface TokenInFile {
  line: number;
  column: number;
  token: string;
  keyId: string;
}

const CHUNK = 16 * 1024 * 1024;

/** Tokens in a buffer already in memory (a staged blob, a small file). */
export function tokensInBytes(bytes: Buffer, start?: LinePosition): TokenInFile[] {
  const found = findTokens(bytes);
  if (found.length === 0) return [];
  const lines = new LineCounter(bytes, start);
  return found.map((f) => ({ ...lines.at(f.offset), token: f.token, keyId: f.keyId }));
}

/**
 * Tokens in the file at `path`. A symbolic link found in a folder is not
 * followed (O_NOFOLLOW): it may point out of the tree being scanned. Anything
 * but a regular file is skipped.
 */
export function tokensInFile(path: string, scratch: { buffer: Buffer }, followLink = false): TokenInFile[] {
  const fd = openSync(path, constants.O_RDONLY | (followLink ? 0 : constants.O_NOFOLLOW));
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return [];
    if (st.size <= CHUNK) {
      if (scratch.buffer.length < st.size) scratch.buffer = Buffer.allocUnsafe(Math.max(st.size, scratch.buffer.length * 2));
      let n = 0;
      while (n < st.size) {
        const r = readSync(fd, scratch.buffer, n, st.size - n, n);
        if (r === 0) break;
        n += r;
      }
      return tokensInBytes(scratch.buffer.subarray(0, n));
    }
    return tokensInChunks(fd);
  } finally {
    closeSync(fd);
  }
}

function tokensInChunks(fd: number): TokenInFile[] {
  const out: TokenInFile[] = [];
  const keep = TOKEN_LENGTH - 1; // too short to hold a whole token, long enough to finish one
  let carry = Buffer.alloc(0);
  let position = 0;
  let start: LinePosition = { line: 1, column: 1 };
  const chunk = Buffer.allocUnsafe(CHUNK);
  for (;;) {
    const n = readSync(fd, chunk, 0, CHUNK, position);
    if (n === 0) break;
    position += n;
    const bytes = Buffer.concat([carry, chunk.subarray(0, n)]);
    out.push(...tokensInBytes(bytes, start));
    const cut = Math.max(0, bytes.length - keep);
    start = new LineCounter(bytes, start).at(cut);
    carry = Buffer.from(bytes.subarray(cut));
  }
  return out;
}
