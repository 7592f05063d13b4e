// How a key looks in the Keys view: its label, the short line beside it, the
// icon for its status, and the context value the manifest's menus match on:
// the actions the key's view says its viewer may take (core decides them).

import { type KeyActions, type KeyView, expiresSoon, keyViewAt, relativeTime, sinceTime } from '@keyward/core';
import { timeText } from './time-text.js';

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

function iconOf(key: KeyView, now: number): KeyIcon {
  switch (key.status) {
    case 'revoked':
      return { id: 'circle-slash', color: 'errorForeground' };
    case 'expired':
      return { id: 'history', color: 'disabledForeground' };
    case 'active':
      return expiresSoon(key, now) ? { id: 'warning', color: 'list.warningForeground' } : { id: 'key', color: 'testing.iconPassed' };
  }
}

const ACTIONS: (keyof KeyActions)[] = ['rename', 'delete', 'revoke', 'rotate'];

/**
 * Space-separated flags: `key`, the status, then each action the viewer may
 * take (rename, delete, revoke, rotate); menus match them with
 * `viewItem =~ /\bflag\b/`.
 */
export function keyContextValue(view: KeyView, now: number): string {
  const key = keyViewAt(view, now);
  return ['key', key.status, ...ACTIONS.filter((a) => key.actions[a])].join(' ');
}

export function presentKey(view: KeyView, now: number, opts: { showOwner: boolean }): KeyPresentation {
  const key = keyViewAt(view, now);
  const status = key.status;
  const parts: string[] = [];
  if (opts.showOwner) parts.push(key.sub);
  if (status === 'revoked') parts.push('revoked');
  else if (status === 'expired') parts.push(`expired ${relativeTime(key.expiry, now)}`);
  else parts.push(`expires ${relativeTime(key.expiry, now)}`);
  parts.push(key.lastUsed ? `used ${sinceTime(key.lastUsed, now)}` : 'never used');
  const tooltip = [
    `${key.description}`,
    `Status: ${status}`,
    `Owner: ${key.sub}${key.createdByUser !== key.sub ? ` (created by ${key.createdByUser})` : ''}`,
    `Created: ${timeText(key.created)}`,
    `Expires: ${timeText(key.expiry)}`,
    `Last used: ${key.lastUsed ? timeText(key.lastUsed) : 'never'}`,
    `Id: ${key.id}`,
  ].join('\n');
  return { label: key.description, description: parts.join(' · '), tooltip, icon: iconOf(key, now), contextValue: keyContextValue(key, now) };
}
