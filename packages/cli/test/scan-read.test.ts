// Reading files for `keyward scan`: large files in chunks, links not followed.
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { newKeyId, newToken } from '@keyward/core';
import { tokensInFile } from '../src/scan/read-file.js';

describe('reading a file for tokens', () => {
  it('finds a token that straddles a chunk boundary of a large file, once, at its line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyward-scan-read-'));
    const t = newToken(newKeyId());
    const chunk = 16 * 1024 * 1024;
    const line = 'x'.repeat(99) + '\n';
    const head = line.repeat(Math.floor((chunk - 30) / line.length));
    const pad = 'y'.repeat(chunk - 30 - head.length);
    const body = head + pad + t + '\n' + line.repeat(1000) + 'z' + t + '\n';
    writeFileSync(join(dir, 'big.log'), body);
    const found = tokensInFile(join(dir, 'big.log'), { buffer: Buffer.alloc(0) });
    const lines = head.length / line.length;
    expect(found).toEqual([
      { line: lines + 1, column: pad.length + 1, token: t, keyId: t.slice(3, 27) },
      { line: lines + 1002, column: 2, token: t, keyId: t.slice(3, 27) },
    ]);
  });

  it('does not follow a symbolic link unless asked to', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyward-scan-link-'));
    const t = newToken(newKeyId());
    writeFileSync(join(dir, 'real'), t);
    symlinkSync(join(dir, 'real'), join(dir, 'link'));
    expect(() => tokensInFile(join(dir, 'link'), { buffer: Buffer.alloc(0) })).toThrow(/ELOOP/);
    expect(tokensInFile(join(dir, 'link'), { buffer: Buffer.alloc(0) }, true)).toHaveLength(1);
  });
});
