// How a key looks in the Keys view: its label, the short line beside it, the
// icon for its status, and the context value the manifest's menus match on
// (rename and delete for its owner, revoke for admins while it is active).

import { type KeyView, type UserView, relativeTime, isAdmin } from '@keyward/core';
import { currentStatus } from './token-findings.js';
import { timeText } from './time-text.js';

/** Keys that expire within this window are called out (the status bar, the icons). */
export const EXPIRING_SOON_MS = 7 * 86_400_000;

export interface KeyIcon {
  /** A codicon id. */
  id: string;
  /** A theme colour id. */
  color: string;
}

export interface KeyPresentation {
  label: string;
  description: string;
  tooltip: string;
  icon: KeyIcon;
  contextValue: string;
}

export function expiresSoon(key: KeyView, now: number): boolean {
  return currentStatus(key, now) === 'active' && Date.parse(key.expiry) - now <= EXPIRING_SOON_MS;
}

function iconOf(key: KeyView, now: number): KeyIcon {
  switch (currentStatus(key, now)) {
    case 'revoked':
      return { id: 'circle-slash', color: 'errorForeground' };
    case 'expired':
      return { id: 'history', color: 'disabledForeground' };
    case 'active':
      return expiresSoon(key, now) ? { id: 'warning', color: 'list.warningForeground' } : { id: 'key', color: 'testing.iconPassed' };
  }
}

/** Space-separated flags; menus match them with `viewItem =~ /\bflag\b/`. */
export function keyContextValue(key: KeyView, me: UserView, now: number): string {
  const flags = ['key', currentStatus(key, now)];
  if (key.sub === me.id && me.roles.includes('Developer')) flags.push('owned');
  if (isAdmin(me) && currentStatus(key, now) === 'active') flags.push('revocable');
  return flags.join(' ');
}

export function presentKey(key: KeyView, me: UserView, now: number, opts: { showOwner: boolean }): KeyPresentation {
  const status = currentStatus(key, now);
  const parts: string[] = [];
  if (opts.showOwner) parts.push(key.sub);
  if (status === 'revoked') parts.push('revoked');
  else if (status === 'expired') parts.push(`expired ${relativeTime(key.expiry, now)}`);
  else parts.push(`expires ${relativeTime(key.expiry, now)}`);
  parts.push(key.lastUsed ? `used ${relativeTime(key.lastUsed, now)}` : 'never used');
  const tooltip = [
    `${key.description}`,
    `Status: ${status}`,
    `Owner: ${key.sub}${key.createdByUser !== key.sub ? ` (created by ${key.createdByUser})` : ''}`,
    `Created: ${timeText(key.created)}`,
    `Expires: ${timeText(key.expiry)}`,
    `Last used: ${key.lastUsed ? timeText(key.lastUsed) : 'never'}`,
    `Id: ${key.id}`,
  ].join('\n');
  return { label: key.description, description: parts.join(' · '), tooltip, icon: iconOf(key, now), contextValue: keyContextValue(key, me, now) };
}
