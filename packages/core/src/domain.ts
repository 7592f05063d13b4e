// The concepts of behaviour §1 as the store keeps them. Status is never stored: it
// is derived from the key and the time each time it is read.

export type Role = 'TenantAdmin' | 'Developer';
export const ROLES: readonly Role[] = ['TenantAdmin', 'Developer'];

export interface Settings {
  apiKeysEnabled: boolean;
  /** ISO 8601 duration. */
  maxKeyLifetime: string;
  maxKeysPerUser: number;
  /** Uses per minute above which a key may be flagged for excessive use. */
  excessiveUsePerMinute: number;
  /** ISO 8601 duration: events and usage older than this are removed in the background. */
  eventsRetention: string;
}

export const DEFAULT_SETTINGS: Settings = {
  apiKeysEnabled: false,
  maxKeyLifetime: 'P30D',
  maxKeysPerUser: 5,
  excessiveUsePerMinute: 600,
  eventsRetention: 'P90D',
};

/** A tenant's settings with the defaults of settings added since its store was written. */
export function settingsOf(tenant: Tenant): Settings {
  return { ...DEFAULT_SETTINGS, ...tenant.settings };
}

export interface Tenant {
  id: string;
  name: string;
  created: string;
  settings: Settings;
}

export interface User {
  /** The user name doubles as the id: it is what `--as` and `sub` carry. */
  id: string;
  licence: boolean;
  roles: Role[];
  created: string;
}

export interface ApiKey {
  id: string;
  description: string;
  owner: string;
  createdBy: string;
  created: string;
  lastUpdated: string;
  expiry: string;
  revokedAt?: string;
  revokedBy?: string;
  /** The key this one replaced by rotation, and the key that replaced it. */
  rotatedFrom?: string;
  rotatedTo?: string;
  /** SHA-256 of the token, hex. The token itself is never stored. */
  hash: string;
}

export type KeyStatus = 'active' | 'expired' | 'revoked';
export const KEY_STATUSES: readonly KeyStatus[] = ['active', 'expired', 'revoked'];

/**
 * A key's status at `now`: revoked wins over expired (behaviour §1). The one
 * place a status is derived; every other caller asks this function.
 */
export function statusOf(key: Pick<ApiKey, 'revokedAt' | 'expiry'>, now: number): KeyStatus {
  return statusAt(Boolean(key.revokedAt), expiryTime(key.expiry), now);
}

// Expiry texts as times, kept: a list asks the status of each key it shows on
// every request, and reading the text was most of that (Date.parse ≈ 0.4 µs
// here, a lookup ≈ 0.04 µs). Past this many texts the memo starts over.
const MAX_EXPIRY_TIMES = 20_000;
const expiryTimes = new Map<string, number>();

function expiryTime(text: string): number {
  let at = expiryTimes.get(text);
  if (at === undefined) {
    at = Date.parse(text);
    if (expiryTimes.size >= MAX_EXPIRY_TIMES) expiryTimes.clear();
    expiryTimes.set(text, at);
  }
  return at;
}

/** statusOf's rule for callers that hold the expiry as a time already (verify's hot path, a view read earlier). */
export function statusAt(revoked: boolean, expiresAt: number, now: number): KeyStatus {
  if (revoked) return 'revoked';
  return expiresAt <= now ? 'expired' : 'active';
}

/** statusAt's rule as one time, for counting keys without their records: a key is active while now is before it (its expiry; never, once revoked). */
export function activeUntil(revoked: boolean, expiresAt: number): number {
  return revoked ? -Infinity : expiresAt;
}

export const EVENT_TYPES = [
  'api-key.generated',
  'api-key.renamed',
  'api-key.revoked',
  'api-key.deleted',
  'api-key.used',
  'api-key.auth-failed',
  'api-key.excessive-use',
  'api-key.rotated',
  'api-key.new-address',
  'api-key.reused-after-rotation',
  'api-key.leaked',
  'api-keys-config.updated',
  'user.added',
  'user.updated',
  'user.removed',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** An append-only record; the shape is the wire shape of behaviour §6. */
export interface KeywardEvent {
  id: string;
  eventType: EventType;
  eventTime: string;
  userId: string;
  keyId?: string;
  data: Record<string, unknown>;
}

/** The document a store keeps (events live beside it, append-only). */
export interface StoreDocument {
  version: 1;
  tenant: Tenant;
  users: Record<string, User>;
  keys: Record<string, ApiKey>;
}

export function isAdmin(u: Pick<User, 'roles'> | undefined): boolean {
  return !!u && u.roles.includes('TenantAdmin');
}

export function isDeveloper(u: User | undefined): boolean {
  return !!u && u.roles.includes('Developer');
}
