// Times as a person reads them in a list: "in 5 days", "3 hours ago".

// Days up to two months ("in 30 days" reads better than "in 4 weeks" for a key lifetime).
const UNITS: [number, string, number][] = [
  [365 * 86_400_000, 'year', 365 * 86_400_000],
  [30 * 86_400_000, 'month', 60 * 86_400_000],
  [86_400_000, 'day', 86_400_000],
  [3_600_000, 'hour', 3_600_000],
  [60_000, 'minute', 60_000],
];

export function relativeTime(iso: string, now: number): string {
  const delta = Date.parse(iso) - now;
  const abs = Math.abs(delta);
  if (abs < 60_000) return delta >= 0 ? 'in less than a minute' : 'just now';
  const [size, name] = UNITS.find(([, , from]) => abs >= from)!;
  // Rounded: a 30-day key read a second later still "expires in 30 days".
  const n = Math.round(abs / size);
  const span = `${n} ${name}${n === 1 ? '' : 's'}`;
  return delta >= 0 ? `in ${span}` : `${span} ago`;
}

/** An absolute time, to the minute, in UTC so every reader sees the same text. */
export function timeText(iso: string): string {
  return iso.slice(0, 16).replace('T', ' ') + ' UTC';
}
