// The shapes every face speaks (behaviour §3 and §6): a key as on the wire, a user,
// settings as the config endpoint names them. The command line's --json, the
// HTTP API and the remote adapter all use exactly these.

import type { ApiKey, KeyStatus, KeywardEvent, Role, Settings, User } from './domain.js';
import { statusOf } from './domain.js';

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
}

/** A key as on the wire; `lastUsed` comes from the usage aggregates (it is not stored on the key). */
export function keyView(key: ApiKey, tenantId: string, now: number, lastUsed?: string, lastUsedFrom: readonly { address: string; lastSeen: number }[] = []): KeyView {
  const v: KeyView = {
    id: key.id,
    tenantId,
    description: key.description,
    sub: key.owner,
    subType: 'user',
    status: statusOf(key, now),
    created: key.created,
    createdByUser: key.createdBy,
    lastUpdated: key.lastUpdated,
    expiry: key.expiry,
    lastUsedFrom: [...lastUsedFrom]
      .sort((a, b) => b.lastSeen - a.lastSeen)
      .slice(0, 5)
      .map((a) => ({ address: a.address, lastSeen: new Date(a.lastSeen).toISOString() })),
  };
  if (lastUsed) v.lastUsed = lastUsed;
  if (key.rotatedFrom) v.rotatedFrom = key.rotatedFrom;
  if (key.rotatedTo) v.rotatedTo = key.rotatedTo;
  return v;
}

export function userView(u: User): UserView {
  return { id: u.id, name: u.id, licence: u.licence, roles: [...u.roles] };
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
