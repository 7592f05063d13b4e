// The shapes every face speaks (behaviour §3 and §6): a key as on the wire, a user,
// settings as the config endpoint names them. The command line's --json, the
// HTTP API and the remote adapter all use exactly these.

import type { ApiKey, KeyStatus, KeywardEvent, Role, Settings, Tenant, User } from './domain.js';
import { settingsOf, statusAt, statusOf } from './domain.js';
import { type KeyActions, type UserActions, keyActionsOf, keyActionsOnceExpired, userActions } from './policy.js';

export interface KeyView {
  id: string;
  tenantId: string;
  description: string;
  sub: string;
  subType: 'user';
  status: KeyStatus;
  created: string;
  createdByUser: string;
  lastUpdated: string;
  expiry: string;
  lastUsed?: string;
  /** The last distinct client addresses it was used from, newest first (at most 5). */
  lastUsedFrom?: { address: string; lastSeen: string }[];
  rotatedFrom?: string;
  rotatedTo?: string;
  /** What the viewer who asked may do to this key (policy's keyActions); Keyward's addition to Qlik's shape. */
  actions: KeyActions;
}

export interface GeneratedKey extends KeyView {
  /** Shown once; never stored. */
  token: string;
}

export interface UserView {
  id: string;
  name: string;
  licence: boolean;
  roles: Role[];
  /** What the viewer who asked may do to this user (policy's userActions). */
  actions: UserActions;
}

export interface SettingsView {
  api_keys_enabled: boolean;
  max_api_key_expiry: string;
  max_keys_per_user: number;
  excessive_use_per_minute: number;
  events_retention: string;
}

export type EventView = KeywardEvent;

export interface UsageRow {
  keyId: string;
  description: string;
  sub: string;
  status: KeyStatus | 'deleted';
  uses: number;
  lastUsed: string | null;
  /** True when the key was flagged for excessive use within the window. */
  excessive: boolean;
  /** What the viewer may do to the key now (policy's keyActions); nothing for a deleted key. */
  actions: KeyActions;
}

/** Who a view is built for, and the tenant it is read in: the actions a view carries are theirs. */
export interface Viewer {
  actor: User;
  tenant: Tenant;
  now: number;
}

/** What the usage aggregates know of a key: when and where it was last used. */
export interface KeyUse {
  lastUsed?: number;
  lastUsedFrom?: readonly { address: string; lastSeen: number }[];
}

/** A key as on the wire, for its viewer; `lastUsed` comes from the usage aggregates (it is not stored on the key). */
export function keyView(key: ApiKey, viewer: Viewer, use: KeyUse = {}): KeyView {
  return keyViewsFor(viewer)(key, use);
}

/** A view's lastUsedFrom: the newest five addresses, newest first. Also what a key text made again for a new use alone splices in (wire/key-texts.ts). */
export function lastUsedFromView(use: KeyUse): { address: string; lastSeen: string }[] {
  return [...(use.lastUsedFrom ?? [])]
    .sort((a, b) => b.lastSeen - a.lastSeen)
    .slice(0, 5)
    .map((a) => ({ address: a.address, lastSeen: new Date(a.lastSeen).toISOString() }));
}

/** A view's lastUsed, of a use that has one. */
export function lastUsedView(lastUsed: number): string {
  return new Date(lastUsed).toISOString();
}

/** keyView for one viewer over many keys (a list page): the viewer's part of the actions is decided once. */
export function keyViewsFor(viewer: Viewer): (key: ApiKey, use?: KeyUse) => KeyView {
  const { tenant, now } = viewer;
  const actionsOf = keyActionsOf(viewer.actor, settingsOf(tenant));
  return (key, use = {}) => {
    const v: KeyView = {
      id: key.id,
      tenantId: tenant.id,
      description: key.description,
      sub: key.owner,
      subType: 'user',
      status: statusOf(key, now),
      created: key.created,
      createdByUser: key.createdBy,
      lastUpdated: key.lastUpdated,
      expiry: key.expiry,
      lastUsedFrom: lastUsedFromView(use),
      actions: actionsOf(key, now),
    };
    if (use.lastUsed !== undefined) v.lastUsed = lastUsedView(use.lastUsed);
    if (key.rotatedFrom) v.rotatedFrom = key.rotatedFrom;
    if (key.rotatedTo) v.rotatedTo = key.rotatedTo;
    return v;
  };
}

/**
 * A key view read a while ago, as it stands at `now`: time alone only ever
 * turns an active key expired (statusOf's rule), taking the actions that
 * need an active key with it. Anything else needs a change, and a fresh read.
 */
export function keyViewAt<K extends KeyView>(view: K, now: number): K {
  if (view.status !== 'active' || statusAt(false, Date.parse(view.expiry), now) === 'active') return view;
  return { ...view, status: 'expired', actions: keyActionsOnceExpired(view.actions) };
}

/** A user as `viewer` sees them; `admins`: the tenant's admins now (for the last-admin rule). */
export function userView(u: User, viewer: Pick<Viewer, 'actor'>, admins: number): UserView {
  return { id: u.id, name: u.id, licence: u.licence, roles: [...u.roles], actions: userActions(viewer.actor, u, admins) };
}

export function settingsView(s: Settings): SettingsView {
  return {
    api_keys_enabled: s.apiKeysEnabled,
    max_api_key_expiry: s.maxKeyLifetime,
    max_keys_per_user: s.maxKeysPerUser,
    excessive_use_per_minute: s.excessiveUsePerMinute,
    events_retention: s.eventsRetention,
  };
}

/** Wire names to engine names, for PATCH bodies and `settings set`. */
export const SETTING_FIELDS: Record<keyof SettingsView, keyof Settings> = {
  api_keys_enabled: 'apiKeysEnabled',
  max_api_key_expiry: 'maxKeyLifetime',
  max_keys_per_user: 'maxKeysPerUser',
  excessive_use_per_minute: 'excessiveUsePerMinute',
  events_retention: 'eventsRetention',
};
