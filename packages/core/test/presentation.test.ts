// What every face prints, from core: the same key reads the same in the
// command line, the terminal UI and the extension.
import { describe, expect, it } from 'vitest';
import { DEFAULT_ROTATION_OVERLAP, KeywardError, checkDescription, checkLifetime, checkOverlap, lifetimeChoices, overlapChoices, refusalCode, refusalText, relativeTime, safeJson, sinceTime, safeLines, safeText } from '../src/index.js';

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

  it('reads a moment that can only be past (a last use) slightly ahead of this clock as now, never "in 1s"', () => {
    expect(sinceTime(at(1500), NOW)).toBe('now');
    expect(sinceTime(at(3 * 60_000), NOW)).toBe('now');
    expect(sinceTime(at(-3 * 60_000), NOW)).toBe('3m ago');
    expect(sinceTime(undefined, NOW)).toBe('never');
    expect(sinceTime('not a time', NOW)).toBe('?');
  });
});

describe('lifetime choices', () => {
  const offered = (max: string) => lifetimeChoices(max).choices.map((c) => `${c.iso}${c.maximum ? ' (max)' : ''}`);
  it.each([
    ['P30D', ['PT1H', 'PT8H', 'P1D', 'P7D', 'P30D (max)']],
    ['P7D', ['PT1H', 'PT8H', 'P1D', 'P7D (max)']],
    ['P10D', ['PT1H', 'PT8H', 'P1D', 'P7D', 'P10D (max)']],
    ['PT30M', ['PT30M (max)']],
    ['P2Y', ['PT1H', 'PT8H', 'P1D', 'P7D', 'P30D', 'P90D', 'P365D', 'P2Y (max)']],
    ['forever', []],
    ['PT0S', []],
  ])('up to %s: %j', (max, expected) => {
    expect(offered(max)).toEqual(expected);
  });

  it('labels each in words and makes the maximum the default', () => {
    const { choices, defaultIndex } = lifetimeChoices('P7D');
    expect(choices.map((c) => c.label)).toEqual(['1 hour', '8 hours', '1 day', '7 days']);
    expect(choices[defaultIndex].maximum).toBe(true);
  });

  it('every choice passes the rule for a typed lifetime, and nothing longer than the maximum does', () => {
    for (const c of lifetimeChoices('P90D').choices) expect(checkLifetime(c.iso, 'P90D').ok).toBe(true);
    const r = checkLifetime('P91D', 'P90D');
    expect(!r.ok && r.refusal.code).toBe('EXPIRY_TOO_LONG');
    const bad = checkLifetime('soon', 'P90D');
    expect(!bad.ok && bad.refusal.code).toBe('INVALID_EXPIRY');
  });
});

describe('rotation overlaps', () => {
  it('offers the default first, then at once and longer ones, each one the engine accepts', () => {
    const choices = overlapChoices();
    expect(choices[0]).toEqual({ iso: DEFAULT_ROTATION_OVERLAP, label: '1 hour', default: true });
    expect(choices.map((c) => c.label)).toEqual(['1 hour', 'At once', '15 minutes', '8 hours', '1 day', '7 days']);
    expect(choices.filter((c) => c.default)).toHaveLength(1);
    for (const c of choices) expect(checkOverlap(c.iso).ok).toBe(true);
  });

  it('takes a typed overlap from PT0S up, and refuses what is not a duration', () => {
    expect(checkOverlap(' 30m ')).toEqual({ ok: true, ms: 30 * M });
    expect(checkOverlap('PT0S')).toEqual({ ok: true, ms: 0 });
    for (const bad of ['', 'soon', '-PT1H', 42]) {
      const r = checkOverlap(bad);
      expect(!r.ok && r.refusal.code).toBe('INVALID_INPUT');
    }
  });
});

describe('refusal text', () => {
  it.each([
    [new KeywardError('KEY_LIMIT_REACHED', 'You have 5 active keys.'), 'You have 5 active keys. (KEY_LIMIT_REACHED)', 'KEY_LIMIT_REACHED'],
    [checkDescription('ab\u200bcd'), 'The description must not contain invisible characters (U+200B at character 3): they make the text look like other text. (INVALID_INPUT)', 'INVALID_INPUT'],
    [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }), 'connect ECONNREFUSED 127.0.0.1:1 (ECONNREFUSED)', undefined],
    [new Error('boom'), 'boom', undefined],
    [Object.assign(new Error('odd'), { code: 'not a code' }), 'odd', undefined],
    ['plain text', 'plain text', undefined],
  ])('%s → %s', (e, text, code) => {
    expect(refusalText(e)).toBe(text);
    expect(refusalCode(e)).toBe(code);
  });
});

describe('inert text', () => {
  it.each([
    ['\u001b]0;title\u0007', '␛]0;title^G'],
    ['\u009b2J \u202eevil', '\\u009b2J \\u202eevil'],
    ['ab\u200bcd\u00ad', 'ab\\u200bcd\\u00ad'],
    ['tag\u{e0041}', 'tag\\u{e0041}'],
    ['line\u2028break', 'line\\u2028break'],
    // What scripts need is kept: a joiner inside an emoji, letters, the ellipsis.
    ['👩\u200d💻 Ключ — 鍵…', '👩\u200d💻 Ключ — 鍵…'],
  ])('safeText(%j) is %j, and stays so when shown again', (raw, shown) => {
    expect(safeText(raw)).toBe(shown);
    expect(safeText(shown)).toBe(shown);
  });

  it('safeLines keeps the line breaks, safeJson reads back the same values', () => {
    expect(safeLines('a\u001b[31m\nb\u0007')).toBe('a␛[31m\nb^G');
    const doc = { text: '\u001b]0;x\u0007\u009b\u202e\u200b\u{e0041}', n: 1 };
    const json = safeJson(doc, 2);
    expect(json).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e\u200b\u{e0041}]/u);
    expect(JSON.parse(json)).toEqual(doc);
  });

  it('refusal text is inert: a server cannot retitle a terminal through it', () => {
    expect(refusalText(new KeywardError('KEY_NOT_FOUND', '\u001b]0;pwned\u0007gone'))).toBe('␛]0;pwned^Ggone (KEY_NOT_FOUND)');
  });
});
