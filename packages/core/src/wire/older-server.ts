// A Keyward server from before views carried what their viewer may do
// (fabbacc) answers keys, users and /users/me without `actions` and `may`;
// the faces read them now, and crashed on such a server (the terminal UI's
// first screen: "Cannot read properties of undefined (reading 'seeAllKeys')").
// The remote adapter completes those answers here, with core's own rules for
// the viewer /users/me names: what the server would have said. The server
// still decides each attempt; a view that says yes wrongly meets its refusal.

import type { ApiKey, Settings, User } from '../domain.js';
import { isAdmin } from '../domain.js';
import { keyActions, noKeyActions, userActions, viewerActions } from '../policy.js';
import type { KeyView, SettingsView, UsageRow, UserView } from '../views.js';
import { SETTING_FIELDS } from '../views.js';
import type { WireMe } from './types.js';

/** Who reads an older server's answers: the viewer, the tenant's settings, and its admins now (the last-admin rule). */
export interface OlderServerViewer {
  actor: User;
  settings: Settings;
  admins: number;
}

/** True when the answer lacks what views carry since fabbacc. */
export const lacksActions = (view: { actions?: unknown } | null | undefined): boolean => typeof view === 'object' && view !== null && view.actions === undefined;

// What is read here comes from a server, which may be no Keyward server at all: a field that is
// missing or of another type makes a view that may do less, never a crash.

/** A user as the rules take one, from the wire (the creation time does not enter any rule). */
export function userOfView(v: Pick<UserView, 'id' | 'licence' | 'roles'>): User {
  return { id: v.id, licence: v.licence === true, roles: Array.isArray(v.roles) ? [...v.roles] : [], created: '' };
}

export function settingsOfView(v: SettingsView): Settings {
  const s = {} as Record<keyof Settings, unknown>;
  for (const [wire, name] of Object.entries(SETTING_FIELDS) as [keyof SettingsView, keyof Settings][]) s[name] = v?.[wire];
  return s as unknown as Settings;
}

/** The tenant's admins among `users`. */
export const adminsAmong = (users: readonly Pick<UserView, 'roles'>[]): number => (Array.isArray(users) ? users.filter((u) => Array.isArray(u?.roles) && isAdmin(u)).length : 0);

/** A key view with the actions keyActions gives the viewer (a revoked key's view says only its status). */
export function keyViewWithActions<K extends KeyView>(view: K, viewer: OlderServerViewer, now: number): K {
  if (!lacksActions(view)) return view;
  const key: ApiKey = {
    id: view.id,
    description: view.description,
    owner: view.sub,
    createdBy: view.createdByUser,
    created: view.created,
    lastUpdated: view.lastUpdated,
    expiry: view.expiry,
    revokedAt: view.status === 'revoked' ? view.lastUpdated : undefined,
    rotatedFrom: view.rotatedFrom,
    rotatedTo: view.rotatedTo,
    hash: '',
  };
  return { ...view, actions: keyActions(viewer.actor, key, viewer.settings, now) };
}

/**
 * A usage row with its key's actions. The row names the key's status, not its
 * times: keyActions is asked of a key with just that status; a deleted key's
 * row offers nothing, as the server's does.
 */
export function usageRowWithActions(row: UsageRow, viewer: OlderServerViewer, now: number): UsageRow {
  if (!lacksActions(row)) return row;
  if (row.status === 'deleted') return { ...row, actions: noKeyActions() };
  const at = new Date(now).toISOString();
  const key: ApiKey = {
    id: row.keyId,
    description: row.description,
    owner: row.sub,
    createdBy: row.sub,
    created: at,
    lastUpdated: at,
    expiry: row.status === 'expired' ? at : new Date(now + 86_400_000).toISOString(),
    revokedAt: row.status === 'revoked' ? at : undefined,
    hash: '',
  };
  return { ...row, actions: keyActions(viewer.actor, key, viewer.settings, now) };
}

export function userViewWithActions(view: UserView, viewer: OlderServerViewer): UserView {
  return lacksActions(view) ? { ...view, actions: userActions(viewer.actor, userOfView(view), viewer.admins) } : view;
}

/** /users/me with the user's own actions and `may`; `admins` only matters when the user is an admin. */
export function meWithActions(me: WireMe, admins: number): WireMe {
  const actor = userOfView(me);
  return {
    ...me,
    actions: me.actions ?? userActions(actor, actor, admins),
    may: me.may ?? viewerActions(actor),
  };
}
