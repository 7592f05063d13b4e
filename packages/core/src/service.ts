// The one interface every face depends on. `createLocalService` runs the rules
// in-process on a store; `createRemoteService` asks a Keyward server, which
// runs the same rules. Faces never know which one they hold.

import type { EventType, KeyStatus } from './domain.js';
import type { Permission, ViewerActions } from './policy.js';
import type { ErrorCode } from './refusal.js';
import type { VerifyFailure } from './usage.js';
import type { EventView, GeneratedKey, KeyView, SettingsView, UsageRow, UserView } from './views.js';

export type KeySortField = 'created' | 'description' | 'status' | 'sub' | 'createdByUser' | 'expiry' | 'lastUsed';
/** `created`, `+created` (ascending) or `-created` (descending). */
export type KeySort = `${'' | '+' | '-'}${KeySortField}`;

export interface KeyQuery {
  status?: KeyStatus;
  /** Owner. */
  sub?: string;
  createdByUser?: string;
  /** Case-insensitive match on description, id or owner. */
  search?: string;
  sort?: KeySort;
  /** 1..100 over HTTP; faces in-process may ask for larger windows. */
  limit?: number;
  startingAfter?: string;
  endingBefore?: string;
  /** Position in the result, for windowed lists (instead of a cursor). */
  offset?: number;
}

export interface Page<T> {
  data: T[];
  /** Rows matching the query, all pages together. */
  total: number;
  /** Cursor for the next page (the last row's id), when there is one. */
  next?: string;
  /** Cursor for the previous page (the first row's id), when there is one. */
  prev?: string;
}

export interface EventQuery {
  type?: EventType;
  /** Leave out the usage batches (USAGE_EVENT_TYPES), so the rare events stand out. */
  hideUsage?: boolean;
  keyId?: string;
  userId?: string;
  /** ISO time, or a duration meaning "that long ago". */
  since?: string;
  until?: string;
  limit?: number;
  startingAfter?: string;
  endingBefore?: string;
}

export interface SettingsPatch {
  api_keys_enabled?: boolean;
  max_api_key_expiry?: string;
  max_keys_per_user?: number;
  excessive_use_per_minute?: number;
  events_retention?: string;
}

export interface UserPatch {
  licence?: boolean;
  developer?: boolean;
  admin?: boolean;
}

export interface GenerateInput {
  description: string;
  /** ISO 8601 or short duration; the tenant maximum when absent. */
  expiry?: string;
  /** Owner; the actor when absent (only an admin may name another user). */
  sub?: string;
}

/** A removed user, and their keys that were active and are now revoked. */
export interface RemovedUser {
  user: UserView;
  revoked: KeyView[];
}

export interface RevokeReport {
  revoked: KeyView[];
  /** Keys left as they were, each with the refusal that stopped it. */
  skipped: { id: string; code: ErrorCode; message: string }[];
}

export type VerifyResult =
  | { valid: true; key: KeyView }
  | { valid: false; code: 'UNAUTHENTICATED'; reason: VerifyFailure };

export interface WhoAmI {
  user: UserView;
  tenant: { id: string; name: string };
  settings: SettingsView;
  /** The store path or server URL, for headers. */
  location: string;
  /** Whether generating a key would be refused right now, and why. */
  canGenerate: Permission;
  /** What else the viewer may do at all (policy's viewerActions): which screens and commands a face offers. */
  may: ViewerActions;
}

export interface KeyService {
  whoami(): Promise<WhoAmI>;
  getSettings(): Promise<SettingsView>;
  updateSettings(patch: SettingsPatch): Promise<SettingsView>;

  listUsers(): Promise<UserView[]>;
  addUser(name: string, opts?: { licence?: boolean }): Promise<UserView>;
  updateUser(name: string, patch: UserPatch): Promise<UserView>;
  /** Revokes the user's active keys, then removes the user (admins; never the last admin). */
  removeUser(name: string): Promise<RemovedUser>;

  listKeys(query?: KeyQuery): Promise<Page<KeyView>>;
  getKey(id: string): Promise<KeyView>;
  /**
   * The whole id of the key named by an id or an unambiguous prefix of at
   * least 6 characters, among the keys the actor may see (behaviour §6). An
   * ambiguous prefix is INVALID_INPUT naming the candidates; none, KEY_NOT_FOUND.
   */
  resolveKeyId(idOrPrefix: string): Promise<string>;
  generateKey(input: GenerateInput): Promise<GeneratedKey>;
  renameKey(id: string, description: string): Promise<KeyView>;
  revokeKey(id: string): Promise<KeyView>;
  revokeKeys(ids: string[]): Promise<RevokeReport>;
  deleteKey(id: string): Promise<void>;
  /** Qlik's DELETE: the owner's deletes the key, a tenant admin's revokes someone else's (policy's checkDeleteOrRevoke). */
  deleteOrRevokeKey(id: string): Promise<void>;
  /** Replaces a key's token: a new key with a fresh token; the old one works for `overlap` more (PT1H by default). */
  rotateKey(id: string, overlap?: string): Promise<GeneratedKey>;
  /** Deletes every key the actor owns; returns how many. */
  deleteAllKeys(): Promise<{ deleted: number }>;
  /** `address`: the client a service checks the token for, recorded as where the key was used from. */
  verifyToken(token: string, address?: string): Promise<VerifyResult>;

  listEvents(query?: EventQuery): Promise<Page<EventView>>;
  usage(query?: { since?: string }): Promise<UsageRow[]>;

  /**
   * Calls `listener` after each change to the store under this service: this
   * process's own and other processes' as the store hears of them (PostgreSQL
   * by LISTEN/NOTIFY, within a second), so a face can redraw at once instead
   * of at its next poll. Called from inside the store's change path: schedule
   * the work, do not do it there. A call may also come when nothing a face
   * shows changed (events or usage written; "anything may have changed" while
   * PostgreSQL's change feed reconnects). Returns what unsubscribes. On
   * PostgreSQL the first subscription opens the store's LISTEN connection,
   * which stays until the service is closed. Absent over HTTP (the remote
   * service): a server sends no changes, so a face polls it.
   */
  onStoreChange?(listener: () => void): () => void;

  /** Flushes what is held in memory (usage) and releases resources. */
  close(): Promise<void>;
}
