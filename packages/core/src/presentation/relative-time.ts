// How soon or how long ago, as every face prints it (the command line, the
// terminal UI, the extension): "in 29d", "3h ago", "now". One text so the
// same key reads the same wherever it is shown; short, so it fits a
// nine-character column of the terminal UI.

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const YEAR = 365 * DAY;

// Rounded, not cut: a key made a second ago to live 7 days expires "in 7d",
// not "in 6d". Each unit takes over where the smaller one would round to it.
function span(ms: number): string {
  if (ms < MINUTE - SECOND / 2) return `${Math.max(1, Math.round(ms / SECOND))}s`;
  if (ms < HOUR - MINUTE / 2) return `${Math.round(ms / MINUTE)}m`;
  if (ms < DAY - HOUR / 2) return `${Math.round(ms / HOUR)}h`;
  if (ms < YEAR - DAY / 2) return `${Math.round(ms / DAY)}d`;
  return `${Math.round(ms / YEAR)}y`;
}

function textOf(t: number, now: number): string {
  const diff = t - now;
  if (Math.abs(diff) < SECOND) return 'now';
  return diff > 0 ? `in ${span(diff)}` : `${span(-diff)} ago`;
}

/** "in 29d", "3h ago", "now" (within a second); `never` when there is no time, "?" when it is not one. */
export function relativeTime(iso: string | undefined | null, now: number, never = 'never'): string {
  if (!iso) return never;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? '?' : textOf(t, now);
}

/**
 * For a moment that can only be past (a last use, an address last seen): as
 * relativeTime, but one slightly ahead of this clock reads "now" — the server
 * that recorded it keeps its own clock, and "last used in 1s" means nothing.
 */
export function sinceTime(iso: string | undefined | null, now: number, never = 'never'): string {
  if (!iso) return never;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? '?' : textOf(Math.min(t, now), now);
}
