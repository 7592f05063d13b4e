// What every face prints, from core: the same key reads the same in the
// command line, the terminal UI and the extension.
import { describe, expect, it } from 'vitest';
import { relativeTime } from '../src/index.js';

const NOW = Date.parse('2026-03-01T12:00:00Z');
const at = (ms: number) => new Date(NOW + ms).toISOString();
const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

describe('relative times', () => {
  it.each([
    [0, 'now'],
    [999, 'now'],
    [-999, 'now'],
    [1000, 'in 1s'],
    [30 * S, 'in 30s'],
    [-30 * S, '30s ago'],
    [59 * S + 499, 'in 59s'],
    [59 * S + 500, 'in 1m'],
    [5 * H, 'in 5h'],
    [-3 * H, '3h ago'],
    [23 * H + 29 * M, 'in 23h'],
    [23 * H + 30 * M, 'in 1d'],
    // Rounded, not cut: a 30-day key read a second later still expires "in 30d".
    [30 * D - S, 'in 30d'],
    [7 * D - S, 'in 7d'],
    [-D, '1d ago'],
    [364 * D, 'in 364d'],
    [365 * D, 'in 1y'],
    [400 * D, 'in 1y'],
    [-800 * D, '2y ago'],
  ])('%d ms reads "%s"', (ms, text) => {
    expect(relativeTime(at(ms), NOW)).toBe(text);
  });

  it('says never when there is no time, and ? when it is not one', () => {
    expect(relativeTime(undefined, NOW)).toBe('never');
    expect(relativeTime(null, NOW, '—')).toBe('—');
    expect(relativeTime('not a time', NOW)).toBe('?');
  });
});
