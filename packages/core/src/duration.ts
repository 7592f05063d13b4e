// Lifetimes are ISO 8601 durations (P30D, PT12H, P1Y2M3DT4H5M6S, P2W) or the
// short forms of behaviour §6 (2w, 30d, 12h, 90m, 45s). Years count 365 days and months
// 30 days, the same fixed lengths Qlik and most key managers use for a lifetime.

import { redactTokensIn } from './token.js';
import { UNSAFE_TEXT } from './text-classes.js';
import { refuse } from './refusal.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const ISO = /^P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?!$)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;
const SHORT = /^(\d+)\s*([wdhms])$/;

/** The short forms, as messages and usage texts name them. */
export const SHORT_FORMS = '2w, 30d, 12h, 90m, 45s';

/** Lifetimes beyond this cannot be represented as an expiry date (about 100 000 years). */
const MAX_MS = 100_000 * 365 * DAY;

export interface Duration {
  /** Canonical ISO 8601 text, e.g. `P30D`. */
  iso: string;
  ms: number;
}

// The tenant's maximum lifetime is parsed on every whoami and every generate,
// and a text always parses the same: keep the answers (frozen, as they are shared).
const parsed = new Map<string, Duration | undefined>();

/** Parses a duration, or returns undefined when the text is not one. Zero is a duration too; callers decide. */
export function parseDuration(text: string): Duration | undefined {
  const known = parsed.get(text);
  if (known !== undefined || parsed.has(text)) return known;
  const d = parseFresh(text);
  // Texts come from users too; bound what is kept.
  if (parsed.size >= 256) parsed.clear();
  parsed.set(text, d && Object.freeze(d));
  return d;
}

function parseFresh(text: string): Duration | undefined {
  const t = text.trim();
  const short = SHORT.exec(t.toLowerCase());
  if (short) {
    const n = Number(short[1]);
    const unit = short[2];
    const ms = n * { w: 7 * DAY, d: DAY, h: HOUR, m: MINUTE, s: SECOND }[unit as 'w' | 'd' | 'h' | 'm' | 's'];
    const iso = unit === 'w' || unit === 'd' ? `P${n}${unit.toUpperCase()}` : `PT${n}${unit.toUpperCase()}`;
    return Number.isSafeInteger(n) ? { iso, ms } : undefined;
  }
  const m = ISO.exec(t.toUpperCase());
  if (!m) return undefined;
  const [y, mo, w, d, h, mi, s] = m.slice(1).map((v) => (v === undefined ? 0 : Number(v)));
  if (![y, mo, w, d, h, mi, s].every(Number.isSafeInteger)) return undefined;
  const ms = y * 365 * DAY + mo * 30 * DAY + w * 7 * DAY + d * DAY + h * HOUR + mi * MINUTE + s * SECOND;
  return { iso: t.toUpperCase(), ms };
}

/** A lifetime: a positive, representable duration, or INVALID_EXPIRY. */
export function parseLifetime(text: unknown): Duration {
  if (typeof text !== 'string' || text.length > 64) {
    refuse('INVALID_EXPIRY', `The lifetime must be an ISO 8601 duration such as P30D, P2W or PT12H (or ${SHORT_FORMS}).`);
  }
  const d = parseDuration(text);
  if (!d) refuse('INVALID_EXPIRY', `"${printable(text)}" is not a duration; use ISO 8601 such as P30D, P2W or PT12H, or ${SHORT_FORMS}.`);
  if (d.ms <= 0) refuse('INVALID_EXPIRY', 'The lifetime must be longer than zero.');
  if (d.ms > MAX_MS) refuse('INVALID_EXPIRY', 'The lifetime is too long to be represented as a date.');
  return d;
}

/** Human text for a duration in ms: "30 days", "12 hours". */
export function describeDuration(ms: number): string {
  const units: [number, string][] = [
    [DAY, 'day'],
    [HOUR, 'hour'],
    [MINUTE, 'minute'],
    [SECOND, 'second'],
  ];
  for (const [size, name] of units) {
    if (ms >= size && ms % size === 0) {
      const n = ms / size;
      return `${n} ${name}${n === 1 ? '' : 's'}`;
    }
  }
  return `${Math.round(ms / 1000)} seconds`;
}

/**
 * Any value as text for a message, whatever a client sent: String() throws on
 * an object such as {"toString": 1}, which arrives in any JSON body.
 */
export function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

const UNSAFE_OR_LONE_SURROGATE = new RegExp(UNSAFE_TEXT.source + '|\\p{Cs}', 'gu');

/**
 * Client text fit to echo in a message: token-looking parts cut to their key
 * id (redactTokensIn), at most `max` characters, control, bidirectional and
 * invisible characters escaped, so refusals never echo a secret or a control character.
 */
export function printable(text: string, max = 40): string {
  const safe = redactTokensIn(text);
  // Cut between characters, never inside one (an emoji is two UTF-16 units).
  const chars = Array.from(safe);
  const cut = chars.length > max ? chars.slice(0, max).join('') + '…' : safe;
  // What a person typed reads as typed ("zoë", "３０日"); only what no text may hold raw (text-classes.ts) and a
  // lone surrogate are escaped.
  return cut.replace(UNSAFE_OR_LONE_SURROGATE, (c) => c.split('').map((u) => '\\u' + u.charCodeAt(0).toString(16).padStart(4, '0')).join(''));
}

export const DURATION_MS = { SECOND, MINUTE, HOUR, DAY };
