import { describe, expect, it } from 'vitest';
import { parseDuration } from '../src/index.js';

describe('parseDuration, remembered', () => {
  it('answers every text the same the second time, and each text its own', () => {
    const table: [string, { iso: string; ms: number } | undefined][] = [
      ['P30D', { iso: 'P30D', ms: 30 * 86_400_000 }],
      ['30d', { iso: 'P30D', ms: 30 * 86_400_000 }],
      [' pt12h ', { iso: 'PT12H', ms: 12 * 3_600_000 }],
      ['45s', { iso: 'PT45S', ms: 45_000 }],
      ['1w', { iso: 'P1W', ms: 7 * 86_400_000 }],
      ['P2W', { iso: 'P2W', ms: 14 * 86_400_000 }],
      ['P0D', { iso: 'P0D', ms: 0 }],
      ['soon', undefined],
      ['', undefined],
    ];
    for (let round = 0; round < 2; round++) {
      for (const [text, expected] of table) expect([text, parseDuration(text)]).toEqual([text, expected]);
    }
  });

  it('shares answers that cannot be changed, and forgets old texts when full', () => {
    const d = parseDuration('P7D')!;
    expect(Object.isFrozen(d)).toBe(true);
    expect(() => {
      (d as { ms: number }).ms = 1;
    }).toThrow(TypeError);
    for (let i = 0; i < 1000; i++) expect(parseDuration(`${i}m`)!.ms).toBe(i * 60_000);
    expect(parseDuration('P7D')).toEqual({ iso: 'P7D', ms: 7 * 86_400_000 });
  });
});
