// Which keys a face calls out as expiring soon (the terminal UI's ⚠, the
// extension's warning icon and status bar): one rule, so the same key stands
// out in every face or in none.

import { type KeyStatus, statusAt } from '../domain.js';

const DAY = 86_400_000;

/** Keys expiring within this many days are called out. */
export const EXPIRING_SOON_DAYS = 7;

/**
 * True for a key still active at `now` whose expiry reads "in 6d" or sooner
 * (relativeTime rounds): under 6½ days. A key just made to live 7 days reads
 * "in 7d" and does not stand out at once.
 */
export function expiresSoon(key: { status: KeyStatus; expiry: string }, now: number): boolean {
  const expiresAt = Date.parse(key.expiry);
  return key.status === 'active' && statusAt(false, expiresAt, now) === 'active' && expiresAt - now < (EXPIRING_SOON_DAYS - 0.5) * DAY;
}
