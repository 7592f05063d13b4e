// How times, statuses and counts read on screen. Times are local; lists show
// a date, or how long ago / how soon (core's relativeTime, as every face
// says it), which is what a person scans for.

import type { KeyStatus } from '@keyward/core';

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
