// How times, statuses and counts read on screen. Times are local; lists show
// a date, or how long ago / how soon, which is what a person scans for.

import type { KeyStatus } from '@keyward/core';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const two = (n: number) => String(n).padStart(2, '0');

/** 2026-01-31 */
export function day(iso: string | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '?';
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}`;
}

/** 2026-01-31 14:05:09 */
export function dateTime(iso: string | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '?';
  return `${day(iso)} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

// Rounded, not cut: a key made a second ago to live 7 days expires "in 7d", not "in 6d".
function span(ms: number): string {
  if (ms < MINUTE - 500) return `${Math.max(1, Math.round(ms / 1000))}s`;
  if (ms < HOUR - MINUTE / 2) return `${Math.round(ms / MINUTE)}m`;
  if (ms < DAY - HOUR / 2) return `${Math.round(ms / HOUR)}h`;
  if (ms < 365 * DAY - DAY / 2) return `${Math.round(ms / DAY)}d`;
  return `${Math.round(ms / (365 * DAY))}y`;
}

/** "in 29d", "3h ago", "now"; `never` when there is no time. */
export function relative(iso: string | undefined | null, now: number, never = 'never'): string {
  if (!iso) return never;
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '?';
  const diff = t - now;
  if (Math.abs(diff) < 1000) return 'now';
  return diff > 0 ? `in ${span(diff)}` : `${span(-diff)} ago`;
}

/**
 * True for an active key that expires within `days` days, as the list shows
 * it: under 6½ days reads "in 6d" or less. A key just made to live 7 days
 * reads "in 7d" and does not stand out at once.
 */
export function expiresSoon(status: KeyStatus, expiry: string, now: number, days = 7): boolean {
  return status === 'active' && Date.parse(expiry) - now < (days - 0.5) * DAY;
}

/** Status as a symbol and a word, so it reads the same without colour. */
export const STATUS_LABEL: Record<KeyStatus | 'deleted', string> = {
  active: '● active',
  expired: '○ expired',
  revoked: '✕ revoked',
  deleted: '– deleted',
};

export function plural(n: number, one: string, many = one + 's'): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}

/** The first characters of a key id, enough to tell keys apart in a list. */
export function shortId(id: string | undefined, width = 8): string {
  return id ? id.slice(0, width) : '—';
}
