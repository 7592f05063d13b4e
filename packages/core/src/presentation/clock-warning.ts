// What `keyward serve` says when its clock is far from its database's
// (Store.clockOffset), and when it is near again. Every server on one
// database decides expiry by its own clock, so one whose clock is off
// disagrees with the others about which keys have expired. A second is the
// bound SPEC §4 sets on a revoked key's life across servers: a clock further
// off than that lets an expired key live longer than a revoked one may.

import type { ClockOffsetReading } from '../store/boundary.js';

/** How far off (beyond the reading's own error) a clock is told of. */
export const CLOCK_WARNING_MS = 1000;

/** The warning for a server whose clock is `offsetMs` from the database's (± errorMs); undefined within the bound. */
export function clockOffsetWarning({ offsetMs, errorMs }: ClockOffsetReading): string | undefined {
  if (!(Math.abs(offsetMs) - errorMs > CLOCK_WARNING_MS)) return undefined;
  const by = `${(Math.abs(offsetMs) / 1000).toFixed(1)} s`;
  const what =
    offsetMs < 0
      ? `this server accepts a key up to ${by} past its expiry, and dates what it makes ${by} early`
      : `this server refuses a key up to ${by} before its expiry, and dates what it makes ${by} late`;
  return `Warning: this server's clock is ${by} ${offsetMs < 0 ? 'behind' : 'ahead of'} the database's. Each server decides expiry by its own clock, so ${what}. Set every server's time by NTP.`;
}

/**
 * What a server that was warned says once its clock is back within half the
 * bound (so one hovering about a second apart is not told of every few
 * seconds); undefined until then.
 */
export function clockBackText({ offsetMs, errorMs }: ClockOffsetReading): string | undefined {
  if (!(Math.abs(offsetMs) + errorMs <= CLOCK_WARNING_MS / 2)) return undefined;
  return `This server's clock is within ${Math.max(1, Math.ceil(Math.abs(offsetMs) + errorMs))} ms of the database's again.`;
}
