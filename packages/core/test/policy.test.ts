// SPEC §2 as a table: every role × action × own/other key × setting case,
// one row each, against the pure policy functions.
import { describe, expect, it } from 'vitest';
import { type ApiKey, DEFAULT_SETTINGS, type Role, type Settings, type User, checkAdmin, checkGenerate, checkOwnerChange, checkRevoke, checkSettings } from '../src/index.js';

const NOW = Date.parse('2026-06-01T00:00:00Z');
const ROLE_SETS: Record<string, Role[]> = { none: [], dev: ['Developer'], admin: ['TenantAdmin'], both: ['TenantAdmin', 'Developer'] };
const user = (id: string, roles: Role[], licence = true): User => ({ id, roles, licence, created: '2026-01-01T00:00:00Z' });
const key = (owner: string, state: 'active' | 'expired' | 'revoked'): ApiKey => ({
  id: 'a'.repeat(24),
  description: 'k',
  owner,
  createdBy: owner,
  created: '2026-05-01T00:00:00Z',
  lastUpdated: '2026-05-01T00:00:00Z',
  expiry: state === 'expired' ? '2026-05-31T00:00:00Z' : '2026-07-01T00:00:00Z',
  ...(state === 'revoked' ? { revokedAt: '2026-05-15T00:00:00Z' } : {}),
  hash: '0'.repeat(64),
});
const on: Settings = { ...DEFAULT_SETTINGS, apiKeysEnabled: true };
const codeOf = (r: { code: string } | null) => r?.code ?? 'ok';
const gen = (actor: User, owner: User, settings: Settings, activeKeys: number, lifetime?: string) => {
  const r = checkGenerate({ actor, owner, settings, activeKeys, lifetime });
  return r.ok ? 'ok' : r.refusal.code;
};

// Columns: none, dev, admin, both (roles of the actor).
type Row = [action: string, expected: [string, string, string, string], run: (actor: User) => string];
const other = user('other', ['Developer']);
const rows: Row[] = [
  ['generate own, keys on, licence', ['DEVELOPER_ROLE_REQUIRED', 'ok', 'DEVELOPER_ROLE_REQUIRED', 'ok'], (a) => gen(a, a, on, 0)],
  ['generate own, keys off', ['API_KEYS_DISABLED', 'API_KEYS_DISABLED', 'API_KEYS_DISABLED', 'API_KEYS_DISABLED'], (a) => gen(a, a, DEFAULT_SETTINGS, 0)],
  ['generate own, no licence', ['LICENCE_REQUIRED', 'LICENCE_REQUIRED', 'LICENCE_REQUIRED', 'LICENCE_REQUIRED'], (a) => gen({ ...a, licence: false }, { ...a, licence: false }, on, 0)],
  ['generate own, at the limit', ['DEVELOPER_ROLE_REQUIRED', 'KEY_LIMIT_REACHED', 'DEVELOPER_ROLE_REQUIRED', 'KEY_LIMIT_REACHED'], (a) => gen(a, a, on, 5)],
  ['generate own, one below the limit', ['DEVELOPER_ROLE_REQUIRED', 'ok', 'DEVELOPER_ROLE_REQUIRED', 'ok'], (a) => gen(a, a, on, 4)],
  ['generate own, limit 0', ['DEVELOPER_ROLE_REQUIRED', 'KEY_LIMIT_REACHED', 'DEVELOPER_ROLE_REQUIRED', 'KEY_LIMIT_REACHED'], (a) => gen(a, a, { ...on, maxKeysPerUser: 0 }, 0)],
  ['generate own, lifetime = max', ['DEVELOPER_ROLE_REQUIRED', 'ok', 'DEVELOPER_ROLE_REQUIRED', 'ok'], (a) => gen(a, a, on, 0, 'P30D')],
  ['generate own, lifetime > max', ['DEVELOPER_ROLE_REQUIRED', 'EXPIRY_TOO_LONG', 'DEVELOPER_ROLE_REQUIRED', 'EXPIRY_TOO_LONG'], (a) => gen(a, a, on, 0, 'P31D')],
  ['generate own, lifetime malformed', ['DEVELOPER_ROLE_REQUIRED', 'INVALID_EXPIRY', 'DEVELOPER_ROLE_REQUIRED', 'INVALID_EXPIRY'], (a) => gen(a, a, on, 0, '30 days')],
  ['generate own, lifetime zero', ['DEVELOPER_ROLE_REQUIRED', 'INVALID_EXPIRY', 'DEVELOPER_ROLE_REQUIRED', 'INVALID_EXPIRY'], (a) => gen(a, a, on, 0, 'PT0S')],
  ['generate own, short form 12h', ['DEVELOPER_ROLE_REQUIRED', 'ok', 'DEVELOPER_ROLE_REQUIRED', 'ok'], (a) => gen(a, a, on, 0, '12h')],
  ['generate own, no upper bound on max', ['DEVELOPER_ROLE_REQUIRED', 'ok', 'DEVELOPER_ROLE_REQUIRED', 'ok'], (a) => gen(a, a, { ...on, maxKeyLifetime: 'P100Y' }, 0, 'P99Y')],
  // Nobody, an admin included, generates a key for someone else (SPEC §2).
  ['generate for a developer', ['NOT_KEY_OWNER', 'NOT_KEY_OWNER', 'NOT_KEY_OWNER', 'NOT_KEY_OWNER'], (a) => gen(a, other, on, 0)],
  ['generate for a user without role', ['NOT_KEY_OWNER', 'NOT_KEY_OWNER', 'NOT_KEY_OWNER', 'NOT_KEY_OWNER'], (a) => gen(a, user('x', []), on, 0)],
  ['rename own key', ['DEVELOPER_ROLE_REQUIRED', 'ok', 'DEVELOPER_ROLE_REQUIRED', 'ok'], (a) => codeOf(checkOwnerChange(a, key(a.id, 'active'), 'rename'))],
  ['rename own revoked key', ['DEVELOPER_ROLE_REQUIRED', 'ok', 'DEVELOPER_ROLE_REQUIRED', 'ok'], (a) => codeOf(checkOwnerChange(a, key(a.id, 'revoked'), 'rename'))],
  ["rename other's key", ['KEY_NOT_FOUND', 'KEY_NOT_FOUND', 'NOT_KEY_OWNER', 'NOT_KEY_OWNER'], (a) => codeOf(checkOwnerChange(a, key('other', 'active'), 'rename'))],
  ['rename missing key', ['KEY_NOT_FOUND', 'KEY_NOT_FOUND', 'KEY_NOT_FOUND', 'KEY_NOT_FOUND'], (a) => codeOf(checkOwnerChange(a, undefined, 'rename'))],
  ['delete own key', ['DEVELOPER_ROLE_REQUIRED', 'ok', 'DEVELOPER_ROLE_REQUIRED', 'ok'], (a) => codeOf(checkOwnerChange(a, key(a.id, 'active'), 'delete'))],
  ['delete own expired key', ['DEVELOPER_ROLE_REQUIRED', 'ok', 'DEVELOPER_ROLE_REQUIRED', 'ok'], (a) => codeOf(checkOwnerChange(a, key(a.id, 'expired'), 'delete'))],
  ["delete other's key", ['KEY_NOT_FOUND', 'KEY_NOT_FOUND', 'NOT_KEY_OWNER', 'NOT_KEY_OWNER'], (a) => codeOf(checkOwnerChange(a, key('other', 'active'), 'delete'))],
  ['revoke own active key', ['ADMIN_ROLE_REQUIRED', 'ADMIN_ROLE_REQUIRED', 'ok', 'ok'], (a) => codeOf(checkRevoke(a, key(a.id, 'active'), NOW))],
  ["revoke other's active key", ['ADMIN_ROLE_REQUIRED', 'ADMIN_ROLE_REQUIRED', 'ok', 'ok'], (a) => codeOf(checkRevoke(a, key('other', 'active'), NOW))],
  ["revoke other's expired key", ['ADMIN_ROLE_REQUIRED', 'ADMIN_ROLE_REQUIRED', 'KEY_NOT_ACTIVE', 'KEY_NOT_ACTIVE'], (a) => codeOf(checkRevoke(a, key('other', 'expired'), NOW))],
  ["revoke other's revoked key", ['ADMIN_ROLE_REQUIRED', 'ADMIN_ROLE_REQUIRED', 'KEY_NOT_ACTIVE', 'KEY_NOT_ACTIVE'], (a) => codeOf(checkRevoke(a, key('other', 'revoked'), NOW))],
  ['revoke missing key', ['ADMIN_ROLE_REQUIRED', 'ADMIN_ROLE_REQUIRED', 'KEY_NOT_FOUND', 'KEY_NOT_FOUND'], (a) => codeOf(checkRevoke(a, undefined, NOW))],
  ['change settings / roles / see events', ['ADMIN_ROLE_REQUIRED', 'ADMIN_ROLE_REQUIRED', 'ok', 'ok'], (a) => codeOf(checkAdmin(a))],
];

describe('policy table', () => {
  const cases = rows.flatMap(([action, expected, run]) =>
    Object.entries(ROLE_SETS).map(([name, roles], i) => ({ action, role: name, roles, expected: expected[i], run })),
  );
  it.each(cases)('$action as $role → $expected', ({ roles, expected, run }) => {
    expect(run(user('me', roles))).toBe(expected);
  });
});

describe('settings ranges', () => {
  it.each([
    [{ maxKeysPerUser: 0 }, 'ok'],
    [{ maxKeysPerUser: 1000 }, 'ok'],
    [{ maxKeysPerUser: 1001 }, 'INVALID_SETTING'],
    [{ maxKeysPerUser: -1 }, 'INVALID_SETTING'],
    [{ maxKeysPerUser: 2.5 }, 'INVALID_SETTING'],
    [{ maxKeysPerUser: '5' }, 'INVALID_SETTING'],
    [{ maxKeyLifetime: 'P1D' }, 'ok'],
    [{ maxKeyLifetime: 'P1000Y' }, 'ok'],
    [{ maxKeyLifetime: 'PT0S' }, 'INVALID_SETTING'],
    [{ maxKeyLifetime: 'forever' }, 'INVALID_SETTING'],
    [{ maxKeyLifetime: 30 }, 'INVALID_SETTING'],
    [{ apiKeysEnabled: 'yes' }, 'INVALID_SETTING'],
    [{ apiKeysEnabled: false }, 'ok'],
    [{ excessiveUsePerMinute: 0 }, 'INVALID_SETTING'],
    [{ colour: 'blue' }, 'INVALID_SETTING'],
  ] as [Record<string, unknown>, string][])('%o → %s', (patch, expected) => {
    expect(codeOf(checkSettings(patch))).toBe(expected);
  });
});
