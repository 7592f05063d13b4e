import { describe, expect, it } from 'vitest';
import { LineCounter, findTokens, newKeyId, newToken } from '../src/index.js';

describe('finding tokens in bytes', () => {
  it('reports checksum-valid tokens only, wherever they sit', () => {
    const a = newToken(newKeyId());
    const b = newToken(newKeyId());
    const wrongChecksum = a.slice(0, -1) + (a.endsWith('0') ? '1' : '0');
    const wrongSecret = a.slice(0, 30) + (a[30] === 'a' ? 'b' : 'a') + a.slice(31);
    const text = `${a}${b}\nkw_ kw_${'0'.repeat(24)} ${wrongChecksum} ${wrongSecret} x${a.slice(0, 40)}\nprefix_${b}`;
    const found = findTokens(Buffer.from(text));
    expect(found.map((f) => f.token)).toEqual([a, b, b]);
    expect(found.map((f) => f.keyId)).toEqual([a.slice(3, 27), b.slice(3, 27), b.slice(3, 27)]);
    expect(found[1].offset).toBe(a.length);
  });

  it('finds a token ending at the last byte, and none in a buffer cut inside one', () => {
    const t = newToken(newKeyId());
    expect(findTokens(Buffer.from('x' + t))).toHaveLength(1);
    expect(findTokens(Buffer.from('x' + t.slice(0, -1)))).toHaveLength(0);
    expect(findTokens(Buffer.from(t + t), 1)).toHaveLength(1);
  });

  it('counts lines and character columns, also across chunks', () => {
    const t = newToken(newKeyId());
    const bytes = Buffer.from(`é€ ${t}\n\nab${t}`);
    const [first, second] = findTokens(bytes);
    const lines = new LineCounter(bytes);
    expect(lines.at(first.offset)).toEqual({ line: 1, column: 4 });
    expect(lines.at(second.offset)).toEqual({ line: 3, column: 3 });
    // A chunk that starts in the middle of line 7, 10 characters in.
    expect(new LineCounter(Buffer.from(`abc${t}\nx${t}`), { line: 7, column: 11 }).at(3)).toEqual({ line: 7, column: 14 });
  });
});
