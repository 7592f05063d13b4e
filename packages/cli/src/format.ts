// Human output of the command line: tables and key details. Every value that
// came from the store passes through safeText; times read as in every face
// (core's relativeTime).

import { type EventView, type KeyView, relativeTime, sinceTime, safeText, type SettingsView, type UsageRow, type UserView } from '@keyward/core';
// Only the cell fitting of the terminal UI, not Ink: a command loads no UI.
import { fit, truncate, widthOf } from '@keyward/tui/fit';

/** How soon or how long ago, from now, in the words of every face (core's relativeTime). */
export const relative = (iso: string | undefined | null): string => relativeTime(iso, Date.now());
/** How long ago, for a moment that can only be past: a last use, an address last seen (core's sinceTime). */
const since = (iso: string | undefined | null): string => sinceTime(iso, Date.now());

/**
 * A plain text table; columns sized to their widest cell in terminal columns
 * (a CJK character or an emoji takes two, so "café ☕ 東京" lines up), descriptions clipped.
 */
export function table(head: string[], rows: string[][], clip: Partial<Record<number, number>> = {}): string {
  const cells = [head, ...rows].map((r) => r.map((c, i) => (clip[i] ? truncate(c, clip[i]!) : c)));
  const widths = head.map((_, i) => Math.max(...cells.map((r) => widthOf(r[i]))));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : fit(c, widths[i]))).join('  ').trimEnd()).join('\n');
}

export function keysTable(keys: KeyView[]): string {
  return table(
    ['ID', 'DESCRIPTION', 'OWNER', 'STATUS', 'EXPIRES', 'LAST USED'],
    keys.map((k) => [k.id, safeText(k.description), safeText(k.sub), k.status, relative(k.expiry), since(k.lastUsed)]),
    { 1: 40 },
  );
}

export function keyDetails(k: KeyView): string {
  return table(
    ['id', k.id],
    [
      ['description', safeText(k.description)],
      ['owner', safeText(k.sub)],
      ['created by', safeText(k.createdByUser)],
      ['status', k.status],
      ['created', k.created],
      ['expires', `${k.expiry} (${relative(k.expiry)})`],
      ['last updated', k.lastUpdated],
      ['last used', k.lastUsed ? `${k.lastUsed} (${since(k.lastUsed)})` : 'never'],
      ...(k.lastUsedFrom?.length ? [['last used from', k.lastUsedFrom.map((a) => `${safeText(a.address)} (${since(a.lastSeen)})`).join(', ')]] : []),
      ...(k.rotatedFrom ? [['rotated from', k.rotatedFrom]] : []),
      ...(k.rotatedTo ? [['rotated to', k.rotatedTo]] : []),
      ['you may', mayText(k.actions, KEY_ACTION_COMMANDS, 'nothing (you can read it)')],
    ],
  );
}

/** What a view's actions say its viewer may do, in `words`, in their order (core decides; the command line only names them). */
function mayText<A extends string>(actions: Record<A, boolean>, words: Record<A, string>, none: string): string {
  const may = (Object.keys(words) as A[]).filter((a) => actions[a]).map((a) => words[a]);
  return may.length === 0 ? none : may.join(', ');
}

/** The commands a key's view says its viewer may run on it. */
const KEY_ACTION_COMMANDS: Record<keyof KeyView['actions'], string> = { rename: 'keys rename', delete: 'keys rm', revoke: 'keys revoke', rotate: 'keys rotate' };

export function settingsText(s: SettingsView): string {
  return table(
    ['API keys enabled', s.api_keys_enabled ? 'on' : 'off'],
    [
      ['maximum key lifetime', s.max_api_key_expiry],
      ['maximum active keys per user', String(s.max_keys_per_user)],
      ['excessive use (uses per minute)', String(s.excessive_use_per_minute)],
      ['events kept for', s.events_retention],
    ],
  );
}

export function usersTable(users: UserView[]): string {
  return table(
    ['USER', 'LICENCE', 'ROLES', 'YOU MAY'],
    users.map((u) => [safeText(u.name), u.licence ? 'yes' : 'no', u.roles.join(', ') || '-', mayText(u.actions, USER_ACTION_TEXT, 'nothing')]),
  );
}

/** What the user's view says its viewer may do to them (core decides, as for keys: the last admin keeps the role and stays). */
const USER_ACTION_TEXT: Record<keyof UserView['actions'], string> = { setLicence: 'set licence', setRoles: 'set roles', demote: 'take admin role', remove: 'remove' };

export function eventsTable(events: EventView[]): string {
  return table(
    ['TIME', 'TYPE', 'USER', 'KEY', 'DETAILS'],
    events.map((e) => [e.eventTime, e.eventType, safeText(e.userId), e.keyId ?? '-', safeText(JSON.stringify(e.data))]),
    { 4: 80 },
  );
}

export function usageTable(rows: UsageRow[]): string {
  return table(
    ['KEY', 'DESCRIPTION', 'OWNER', 'STATUS', 'USES', 'LAST USED', 'FLAG'],
    rows.map((r) => [r.keyId, safeText(r.description), safeText(r.sub), r.status, String(r.uses), since(r.lastUsed), r.excessive ? 'excessive use' : '-']),
    { 1: 30 },
  );
}
