import { mkdtempSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lastLineWith, linesBackward, linesForward } from '../src/store/json/line-reader.js';

const dir = mkdtempSync(join(tmpdir(), 'keyward-lines-'));
let n = 0;

async function collect<T>(gen: AsyncGenerator<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of gen) out.push(x);
  return out;
}

describe('reading lines in chunks', () => {
  it('finds every complete line, forwards and backwards, whatever the chunk size, multi-byte text and an unfinished tail', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.string({ unit: fc.constantFrom('a', 'é', '€', '𝄞', ' ', '\n'), maxLength: 30 }), { maxLength: 20 }),
        fc.string({ unit: fc.constantFrom('x', 'é'), maxLength: 5 }),
        fc.integer({ min: 1, max: 40 }),
        async (pieces, tail, chunk) => {
          const text = pieces.map((p) => p + '\n').join('') + tail;
          const path = join(dir, `f${n++}`);
          writeFileSync(path, text);
          const whole = text.slice(0, text.lastIndexOf('\n') + 1);
          const expected = whole.split('\n').slice(0, -1).filter((l) => l.length > 0);
          const fd = await open(path, 'r');
          try {
            const size = Buffer.byteLength(text);
            const back = await collect(linesBackward(fd, size, 0, chunk));
            const fwd = await collect(linesForward(fd, 0, size, chunk));
            expect(back.map((l) => l.text)).toEqual([...expected].reverse());
            expect(fwd.map((l) => l.text)).toEqual(expected);
            // Offsets name each line's bytes exactly.
            const bytes = Buffer.from(text);
            for (const l of [...back, ...fwd]) {
              expect(bytes.toString('utf8', l.start, l.end - 1)).toBe(l.text);
              expect(bytes[l.end - 1]).toBe(0x0a);
            }
          } finally {
            await fd.close();
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('finds the last complete line holding a needle that a check accepts, as a walk through every line does, whatever the chunk size', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.string({ unit: fc.constantFrom('a', 'b', 'é', '𝄞', ' ', '\n'), maxLength: 30 }), { maxLength: 20 }),
        fc.string({ unit: fc.constantFrom('a', 'b', 'é'), maxLength: 5 }),
        fc.constantFrom('ab', 'a', 'éb', 'ba a'),
        fc.integer({ min: 1, max: 40 }),
        fc.boolean(),
        async (pieces, tail, needle, chunk, onlyOdd) => {
          const text = pieces.map((p) => p + '\n').join('') + tail;
          const path = join(dir, `f${n++}`);
          writeFileSync(path, text);
          // The check refuses some lines that hold the needle: the search goes on further back.
          const accept = (t: string) => !onlyOdd || t.length % 2 === 1;
          const fd = await open(path, 'r');
          try {
            const size = Buffer.byteLength(text);
            const expected = (await collect(linesBackward(fd, size, 0, 7))).find((l) => l.text.includes(needle) && accept(l.text));
            const found = await lastLineWith(fd, 0, size, Buffer.from(needle), (l) => accept(l.text), chunk);
            expect(found).toEqual(expected);
          } finally {
            await fd.close();
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
