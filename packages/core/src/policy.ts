// Every rule of behaviour §2 as a pure function of (actor, target, settings, now).
// No I/O: a refusal is returned, never thrown, so the rules are tested as a
// table and the use cases decide what to do with the answer.

import { type ApiKey, type KeyStatus, type Settings, type User, isAdmin, isDeveloper, statusOf } from './domain.js';
import { type Duration, parseDuration, parseLifetime, printable, textOf } from './duration.js';
import { type RefusalCode, KeywardError } from './refusal.js';

export interface Refusal {
  code: RefusalCode;
  message: string;
}

const refusal = (code: RefusalCode, message: string): Refusal => ({ code, message });
/** A check's refusal, as the checks that say ok or not answer it. */
const refused = (code: RefusalCode, message: string) => ({ ok: false as const, refusal: refusal(code, message) });

export const MAX_DESCRIPTION = 256;
export const MAX_TENANT_NAME = 100;
export const MAX_KEYS_LIMIT = 1000;
const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$/;

// What stored text may not hold (CONTROL, BIDI, INVISIBLE) lives in
// text-classes.ts, which safeText and printable read too.
import { BIDI, CONTROL, INVISIBLE } from './text-classes.js';
import { TOKEN_SECRET_IN_TEXT } from './token.js';
export { BIDI, CONTROL, INVISIBLE };
// The zero-width joiner and non-joiner are invisible too, except where they
// change what is drawn: a joiner between two pictographs (an emoji sequence),
// or between letters of a script whose letters join (Persian words,
// Indic conjuncts).
const JOINING = '\\p{sc=Arabic}\\p{sc=Syriac}\\p{sc=Nko}\\p{sc=Mongolian}\\p{sc=Devanagari}\\p{sc=Bengali}\\p{sc=Gurmukhi}\\p{sc=Gujarati}\\p{sc=Oriya}\\p{sc=Tamil}\\p{sc=Telugu}\\p{sc=Kannada}\\p{sc=Malayalam}\\p{sc=Sinhala}';
const LOOSE_JOINER = new RegExp(
  '[\\u200c\\u200d]' +
    '(?!(?<=\\p{Extended_Pictographic}[\\ufe0f\\u{1f3fb}-\\u{1f3ff}]?\\u200d)\\p{Extended_Pictographic})' +
    `(?!(?<=[${JOINING}]\\p{M}*[\\u200c\\u200d])[${JOINING}])`,
  'u',
);
// A variation selector chooses how the character before it is drawn; with no
// visible character before it (at the start, after a space or another
// selector or an invisible one) it shows as nothing.
const LONE_SELECTOR = /(?<![^\s\p{Cc}\p{Cf}\ufe00-\ufe0f\u180b-\u180d\u180f\u{e0100}-\u{e01ef}])[\ufe00-\ufe0f\u180b-\u180d\u180f\u{e0100}-\u{e01ef}]/u;

const codePoint = (c: string) => 'U+' + c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');

/**
 * The one rule for stored text: no token (nor a piece of one), no control
 * characters, no bidirectional controls, nothing invisible. `what` names the
 * field in the sentence ("The description"); the refusal names the character
 * and where it is.
 */
export function checkStoredText(text: string, what: string): Refusal | null {
  // A token pasted where a name or description belongs would be stored and shown in every list and
  // event (a piece past its key id gives the secret away too); never echoed.
  if (TOKEN_SECRET_IN_TEXT.test(text)) return refusal('INVALID_INPUT', `${what} must not hold a token (kw_…) or a piece of one: it is stored and shown in lists and events, and a token is a secret.`);
  return (
    found(text, what, CONTROL, 'control characters', 'they can change what a terminal shows') ??
    found(text, what, BIDI, 'bidirectional controls', 'they can reorder how the text reads') ??
    found(text, what, INVISIBLE, 'invisible characters', 'they make the text look like other text') ??
    found(text, what, LOOSE_JOINER, 'invisible characters', 'they make the text look like other text') ??
    found(text, what, LONE_SELECTOR, 'a variation selector with nothing before it to vary', 'it shows as nothing')
  );
}

/** checkStoredText's refusal of the first character of `text` that `re` finds, naming it and where it is; null when none. */
function found(text: string, what: string, re: RegExp, kind: string, why: string): Refusal | null {
  const m = re.exec(text);
  if (!m) return null;
  const at = [...text.slice(0, m.index)].length + 1;
  return refusal('INVALID_INPUT', `${what} must not contain ${kind} (${codePoint(m[0])} at character ${at}): ${why}.`);
}

export function checkDescription(text: unknown): Refusal | null {
  if (typeof text !== 'string') return refusal('INVALID_INPUT', 'The description must be text.');
  if (text.trim() === '') return refusal('INVALID_INPUT', 'The description must not be empty.');
  if (text.length > MAX_DESCRIPTION) return refusal('INVALID_INPUT', `The description must be at most ${MAX_DESCRIPTION} characters (it has ${text.length}).`);
  return checkStoredText(text, 'The description');
}

/** A tenant's name, given once at `keyward init`: 1 to 100 characters of visible text. */
export function checkTenantName(name: unknown): Refusal | null {
  if (typeof name !== 'string' || name.trim() === '' || name.length > MAX_TENANT_NAME) {
    return refusal('INVALID_INPUT', `The tenant name must be 1 to ${MAX_TENANT_NAME} characters of text.`);
  }
  return checkStoredText(name, 'The tenant name');
}

export function checkUserName(name: unknown): Refusal | null {
  if (typeof name === 'string') {
    const hidden = checkStoredText(name, 'A user name');
    if (hidden) return hidden;
  }
  if (typeof name !== 'string' || !USER_NAME.test(name)) {
    return refusal('INVALID_INPUT', `"${printable(textOf(name))}" is not a valid user name: use 1 to 64 letters, digits and . _ @ + - (starting with a letter or digit).`);
  }
  return null;
}

/** Who may see a key: its owner, and the tenant's admins. */
export function canSeeKey(actor: User, key: ApiKey): boolean {
  return key.owner === actor.id || isAdmin(actor);
}

export function checkAdmin(actor: User): Refusal | null {
  return isAdmin(actor) ? null : refusal('ADMIN_ROLE_REQUIRED', 'Only a tenant admin can do this.');
}

export interface GenerateCheck {
  actor: User;
  owner: User;
  settings: Settings;
  /** Active keys the owner holds now. */
  activeKeys: number;
  /** The requested lifetime; the tenant maximum when absent. */
  lifetime?: string;
}

/** behaviour §2 developer 1, in the order a person fixes them: the tenant, then the user, then the request. */
export function checkGenerate(c: GenerateCheck): { ok: true; lifetime: Duration } | { ok: false; refusal: Refusal } {
  // A token lets its holder act as its owner, and the events name the owner:
  // nobody, an admin included, generates a key for someone else (behaviour §2).
  if (c.owner.id !== c.actor.id) return refused('NOT_KEY_OWNER', `A key is always generated by its own owner; ${printable(c.owner.id)} can generate one for themselves.`);
  if (!c.settings.apiKeysEnabled) return refused('API_KEYS_DISABLED', 'API keys are disabled for this tenant; a tenant admin can enable them.');
  const who = 'You have';
  if (!c.owner.licence) return refused('LICENCE_REQUIRED', `${who} no active licence; a tenant admin can assign one.`);
  if (!isDeveloper(c.owner)) return refused('DEVELOPER_ROLE_REQUIRED', `${who} no Developer role; a tenant admin can assign it.`);
  const max = parseDuration(c.settings.maxKeyLifetime);
  let lifetime: Duration;
  if (c.lifetime === undefined) {
    if (!max) return refused('INVALID_SETTING', 'The tenant maximum lifetime is not a valid duration.');
    lifetime = max;
  } else {
    const asked = checkLifetime(c.lifetime, c.settings.maxKeyLifetime);
    if (!asked.ok) return asked;
    lifetime = asked.lifetime;
  }
  if (c.activeKeys >= c.settings.maxKeysPerUser) {
    return refused('KEY_LIMIT_REACHED', `${who} ${c.activeKeys} active key${c.activeKeys === 1 ? '' : 's'}, the most this tenant allows (${c.settings.maxKeysPerUser}); delete one or ask an admin to revoke one.`);
  }
  return { ok: true, lifetime };
}

/** A requested lifetime (ISO 8601 or a short form such as 12h), at most the tenant maximum `maxLifetime`. */
export function checkLifetime(text: unknown, maxLifetime: string): { ok: true; lifetime: Duration } | { ok: false; refusal: Refusal } {
  let lifetime: Duration;
  try {
    lifetime = parseLifetime(text);
  } catch (e) {
    return { ok: false, refusal: refusal('INVALID_EXPIRY', (e as KeywardError).message) };
  }
  const max = parseDuration(maxLifetime);
  if (max && lifetime.ms > max.ms) {
    return { ok: false, refusal: refusal('EXPIRY_TOO_LONG', `The lifetime ${lifetime.iso} is longer than the tenant maximum of ${maxLifetime}.`) };
  }
  return { ok: true, lifetime };
}

/** Renaming and deleting: the owner, holding the Developer role. */
export function checkOwnerChange(actor: User, key: ApiKey | undefined, verb: 'rename' | 'delete'): Refusal | null {
  if (!key || !canSeeKey(actor, key)) return refusal('KEY_NOT_FOUND', 'No such key.');
  if (key.owner !== actor.id) return refusal('NOT_KEY_OWNER', `Only its owner (${key.owner}) can ${verb} this key.`);
  if (!isDeveloper(actor)) return refusal('DEVELOPER_ROLE_REQUIRED', `You need the Developer role to ${verb} keys.`);
  return null;
}

/** Revoking: an admin, and only an active key. */
export function checkRevoke(actor: User, key: ApiKey | undefined, now: number): Refusal | null {
  if (!isAdmin(actor)) {
    return key && canSeeKey(actor, key) ? refusal('ADMIN_ROLE_REQUIRED', 'Only a tenant admin can revoke a key; you can delete your own.') : refusal('ADMIN_ROLE_REQUIRED', 'Only a tenant admin can revoke a key.');
  }
  if (!key) return refusal('KEY_NOT_FOUND', 'No such key.');
  const status = statusOf(key, now);
  if (status !== 'active') return refusal('KEY_NOT_ACTIVE', `The key is ${status}; only an active key can be revoked.`);
  return null;
}

/**
 * Qlik's DELETE /api/v1/api-keys/{id}: the owner's DELETE deletes the key, a
 * tenant admin's DELETE of someone else's key revokes it. Anyone else is told
 * there is no such key.
 */
export function checkDeleteOrRevoke(actor: User, key: ApiKey | undefined, now: number): { ok: true; action: 'delete' | 'revoke' } | { ok: false; refusal: Refusal } {
  if (!key || !canSeeKey(actor, key)) return { ok: false, refusal: refusal('KEY_NOT_FOUND', 'No such key.') };
  const action = key.owner === actor.id ? 'delete' : 'revoke';
  const r = action === 'delete' ? checkOwnerChange(actor, key, 'delete') : checkRevoke(actor, key, now);
  return r ? { ok: false, refusal: r } : { ok: true, action };
}

/**
 * The tenant always keeps an admin: `user` may not lose TenantAdmin, or be
 * removed, while they are the only one. `admins` counts the tenant's admins now.
 */
export function checkLastAdmin(user: User, admins: number, change: 'demote' | 'remove'): Refusal | null {
  if (!isAdmin(user) || admins > 1) return null;
  const first = change === 'demote' ? 'make someone else an admin first' : 'make someone else an admin before removing them';
  return refusal('INVALID_INPUT', `${user.id} is the tenant's only admin; ${first}.`);
}

/** How much busier than its day a key's minute must be to be excessive use. */
export const EXCESSIVE_USE_FACTOR = 10;
/** A key is flagged for excessive use at most once in this long. */
export const EXCESSIVE_USE_QUIET_MS = 3_600_000;

/** The first question of excessive use, asked before the day's uses are read: does the minute beat the tenant threshold? */
export function beatsUseThreshold(minuteUses: number, settings: Pick<Settings, 'excessiveUsePerMinute'>): boolean {
  return minuteUses > settings.excessiveUsePerMinute;
}

/**
 * A key's minute is excessive use when it beats the tenant threshold and
 * EXCESSIVE_USE_FACTOR × the key's average minute over the day before it
 * (`usesInDay`, that minute included).
 */
export function excessiveUse(minuteUses: number, usesInDay: number, settings: Pick<Settings, 'excessiveUsePerMinute'>): { excessive: boolean; dailyAveragePerMinute: number } {
  const dailyAveragePerMinute = usesInDay / 1440;
  return { excessive: beatsUseThreshold(minuteUses, settings) && minuteUses > EXCESSIVE_USE_FACTOR * dailyAveragePerMinute, dailyAveragePerMinute };
}

/** Whether a key flagged at `lastFlagged` (if ever) may be flagged again for a minute at `at`. */
export function mayFlagExcessiveUse(lastFlagged: number | undefined, at: number): boolean {
  return lastFlagged === undefined || at - lastFlagged >= EXCESSIVE_USE_QUIET_MS;
}

/** Validates a partial settings change; returns the refusal for the first bad field. */
export function checkSettings(patch: Record<string, unknown>): Refusal | null {
  const known = ['apiKeysEnabled', 'maxKeyLifetime', 'maxKeysPerUser', 'excessiveUsePerMinute', 'eventsRetention'];
  for (const k of Object.keys(patch)) {
    if (!known.includes(k)) return refusal('INVALID_SETTING', `"${printable(k)}" is not a setting.`);
  }
  if ('apiKeysEnabled' in patch && typeof patch.apiKeysEnabled !== 'boolean') {
    return refusal('INVALID_SETTING', 'API keys enabled must be on or off (true or false).');
  }
  if ('maxKeyLifetime' in patch) {
    const v = patch.maxKeyLifetime;
    const d = typeof v === 'string' ? parseDuration(v) : undefined;
    if (!d || d.ms <= 0) return refusal('INVALID_SETTING', `The maximum lifetime must be a positive ISO 8601 duration such as P30D (got ${printable(textOf(v))}).`);
    try {
      parseLifetime(v);
    } catch {
      return refusal('INVALID_SETTING', 'The maximum lifetime is too long to be represented as a date.');
    }
  }
  if ('maxKeysPerUser' in patch) {
    const v = patch.maxKeysPerUser;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_KEYS_LIMIT) {
      return refusal('INVALID_SETTING', `The maximum active keys per user must be a whole number from 0 to ${MAX_KEYS_LIMIT} (got ${printable(textOf(v))}).`);
    }
  }
  if ('excessiveUsePerMinute' in patch) {
    const v = patch.excessiveUsePerMinute;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 10_000_000) {
      return refusal('INVALID_SETTING', `The excessive-use threshold must be a whole number of uses per minute from 1 to 10000000 (got ${printable(textOf(v))}).`);
    }
  }
  if ('eventsRetention' in patch) {
    const v = patch.eventsRetention;
    const d = typeof v === 'string' ? parseDuration(v) : undefined;
    if (!d || d.ms <= 0) return refusal('INVALID_SETTING', `The events retention must be a positive ISO 8601 duration such as P90D (got ${printable(textOf(v))}).`);
  }
  return null;
}

/** Rotating: only the owner (as generating), only an active key; the overlap a duration from PT0S up. */
export function checkRotate(actor: User, key: ApiKey | undefined, now: number, overlap: string | undefined): { ok: true; overlapMs: number } | { ok: false; refusal: Refusal } {
  if (!key || !canSeeKey(actor, key)) return { ok: false, refusal: refusal('KEY_NOT_FOUND', 'No such key.') };
  const r = checkRotateKey(actor.id, { owner: key.owner, status: statusOf(key, now), rotatedTo: key.rotatedTo });
  if (r) return { ok: false, refusal: r };
  const o = checkOverlap(overlap ?? DEFAULT_ROTATION_OVERLAP);
  return o.ok ? { ok: true, overlapMs: o.ms } : { ok: false, refusal: o.refusal };
}

/** What rotating asks of a key its actor sees: whose it is, its status now, its successor if rotated. */
export interface RotatedKeyFacts {
  owner: string;
  status: KeyStatus;
  rotatedTo?: string;
}

/**
 * Whether `actorId` may rotate the key: only its owner (the new token acts as
 * them), only while it is active and not rotated yet. `name` begins each
 * sentence: "The key", or a face's `API key "deploy"` when it explains a
 * view's `actions.rotate` (presentation's rotateRefusalText).
 */
export function checkRotateKey(actorId: string, key: RotatedKeyFacts, name = 'The key'): Refusal | null {
  if (key.owner !== actorId) return refusal('NOT_KEY_OWNER', `${name} can be rotated only by its owner (${printable(key.owner)}): the new token lets its holder act as them.`);
  if (key.status !== 'active') return refusal('KEY_NOT_ACTIVE', `${name} is ${key.status}; only an active key can be rotated.`);
  if (key.rotatedTo) return refusal('KEY_NOT_ACTIVE', `${name} was rotated already (to ${printable(key.rotatedTo)}); rotate that one instead.`);
  return null;
}

/** A rotation's overlap: a duration from PT0S (the old token ends at once) up; faces check a typed one with it. */
export function checkOverlap(overlap: unknown): { ok: true; ms: number } | { ok: false; refusal: Refusal } {
  const d = typeof overlap === 'string' ? parseDuration(overlap.trim()) : undefined;
  if (!d || d.ms < 0) return { ok: false, refusal: refusal('INVALID_INPUT', `The overlap must be a duration such as PT1H, 30m or PT0S (got "${printable(textOf(overlap))}").`) };
  return { ok: true, ms: d.ms };
}

/** How long the old token keeps working after a rotation, unless told otherwise (every face offers it). */
export const DEFAULT_ROTATION_OVERLAP = 'PT1H';

/** How far ahead a client warns that the token it uses is about to end. */
export const TOKEN_EXPIRY_WARNING_MS = 7 * 86_400_000;

/** Whether a token ending at `expiry` (RFC 3339) should be warned about now: within 7 days, not yet past. */
export function tokenExpiresSoon(expiry: string, now: number): boolean {
  const left = Date.parse(expiry) - now;
  return left > 0 && left <= TOKEN_EXPIRY_WARNING_MS;
}

/** A yes, or the refusal the attempt would meet (the shape of WhoAmI.canGenerate). */
export type Permission = { ok: true } | { ok: false; code: RefusalCode; message: string };

const permission = (r: Refusal | null): Permission => (r ? { ok: false, code: r.code, message: r.message } : { ok: true });

/**
 * What a viewer may do to one key: every key view carries it, and the faces
 * offer exactly these, deciding nothing themselves.
 */
export interface KeyActions {
  rename: boolean;
  delete: boolean;
  revoke: boolean;
  rotate: boolean;
}

/**
 * The actions `actor` may take on `key` at `now`, answered by the very checks
 * the use cases enforce. Rotating asks generating's rules too (keys enabled,
 * licence, Developer role); the key limit is left to the attempt, since the
 * key being replaced does not count against it (a limit of 0 still refuses).
 */
export function keyActions(actor: User, key: ApiKey, settings: Settings, now: number): KeyActions {
  return keyActionsOf(actor, settings)(key, now);
}

/**
 * keyActions for one viewer over many keys (a list page): generating's
 * rules ask about the viewer and the tenant alone, so they are decided once;
 * each key then answers only what depends on it.
 */
export function keyActionsOf(actor: User, settings: Settings): (key: ApiKey, now: number) => KeyActions {
  const mayGenerate = checkGenerate({ actor, owner: actor, settings, activeKeys: 0 }).ok;
  return (key, now) => ({
    rename: checkOwnerChange(actor, key, 'rename') === null,
    delete: checkOwnerChange(actor, key, 'delete') === null,
    revoke: checkRevoke(actor, key, now) === null,
    rotate: mayGenerate && checkRotate(actor, key, now, undefined).ok,
  });
}

/** A deleted key's actions (a usage row of a key that is gone): nothing is left to do to it. */
export function noKeyActions(): KeyActions {
  return { rename: false, delete: false, revoke: false, rotate: false };
}

/**
 * What time alone takes from a key's actions when it expires: revoking and
 * rotating ask for an active key (checkRevoke, checkRotate); renaming and
 * deleting do not. For a view read a while ago (keyViewAt).
 */
export function keyActionsOnceExpired(a: KeyActions): KeyActions {
  return { ...a, revoke: false, rotate: false };
}

/** What a viewer may do to one user of the tenant: every user view carries it. */
export interface UserActions {
  setLicence: boolean;
  /** Give or take the Developer role, give TenantAdmin. */
  setRoles: boolean;
  /** Take TenantAdmin away: never from the last admin (false when the user is no admin). */
  demote: boolean;
  remove: boolean;
}

/** `admins`: the tenant's admins now (checkLastAdmin). */
export function userActions(actor: User, user: User, admins: number): UserActions {
  const admin = checkAdmin(actor) === null;
  return {
    setLicence: admin,
    setRoles: admin,
    demote: admin && isAdmin(user) && checkLastAdmin(user, admins, 'demote') === null,
    remove: admin && checkLastAdmin(user, admins, 'remove') === null,
  };
}

/** What the viewer may do at all, before naming a key or user: which screens and commands a face offers. */
export interface ViewerActions {
  /** Every key of the tenant is listed, not only one's own. */
  seeAllKeys: Permission;
  revokeKeys: Permission;
  manageUsers: Permission;
  changeSettings: Permission;
  viewEvents: Permission;
}

export function viewerActions(actor: User): ViewerActions {
  const admin = permission(checkAdmin(actor));
  return {
    seeAllKeys: admin,
    // checkRevoke's own sentence for someone who may not revoke at all.
    revokeKeys: permission(checkAdmin(actor) && checkRevoke(actor, undefined, 0)),
    manageUsers: admin,
    changeSettings: admin,
    viewEvents: admin,
  };
}

/** Throws the refusal, for use cases that cannot go on. */
export function enforce(r: Refusal | null): void {
  if (r) throw new KeywardError(r.code, r.message);
}
