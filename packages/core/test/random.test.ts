import { describe, expect, it } from 'vitest';
import { randomBytesDrawn, randomHex } from '../src/random.js';

describe('random draws from a block', () => {
  it('hands out every byte once: draws across many refills never repeat', () => {
    // 20 000 draws of 12 bytes: the 4 KiB block is refilled some 60 times, and
    // a draw that straddles a refill's end takes a fresh block.
    const seen = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      const id = randomHex(i % 7 === 0 ? 5 : 12);
      expect(id).toMatch(i % 7 === 0 ? /^[0-9a-f]{10}$/ : /^[0-9a-f]{24}$/);
      seen.add(id);
    }
    expect(seen.size).toBe(20_000);
  });

  it('gives each draw a buffer of its own, and draws larger than the block straight from the generator', () => {
    const a = randomBytesDrawn(20);
    const b = randomBytesDrawn(20);
    expect(a.length).toBe(20);
    expect(a.equals(b)).toBe(false);
    const copy = Buffer.from(a);
    randomBytesDrawn(20);
    // The block's bytes are wiped once drawn: a buffer handed out is not a view of them.
    expect(a.equals(copy)).toBe(true);
    expect(a.equals(Buffer.alloc(20))).toBe(false);
    expect(randomBytesDrawn(10_000).length).toBe(10_000);
  });
});
