// behaviour §2 as a table: every role × action × own/other key × setting case,
// one row each, against the pure policy functions.
import { describe, expect, it } from 'vitest';
import { type ApiKey, DEFAULT_SETTINGS, type Role, type Settings, type User, beatsUseThreshold, checkAdmin, checkDeleteOrRevoke, checkDescription, checkLastAdmin, excessiveUse, mayFlagExcessiveUse, checkGenerate, checkOwnerChange, checkRevoke, checkSettings, checkTenantName, checkUserName } from '../src/index.js';
import { storedKey } from './helpers.js';

const NOW = Date.parse('2026-06-01T00:00:00Z');
const ROLE_SETS: Record<string, Role[]> = { none: [], dev: ['Developer'], admin: ['TenantAdmin'], both: ['TenantAdmin', 'Developer'] };
const user = (id: string, roles: Role[], licence = true): User => ({ id, roles, licence, created: '2026-01-01T00:00:00Z' });
const key = storedKey;
const on: Settings = { ...DEFAULT_SETTINGS, apiKeysEnabled: true };
const codeOf = (r: { code: string } | null) => r?.code ?? 'ok';
const gen = (actor: User, owner: User, settings: Settings, activeKeys: number, lifetime?: string) => {
  const r = checkGenerate({ actor, owner, settings, activeKeys, lifetime });
  return r.ok ? 'ok' : r.refusal.code;
};

const delOrRevoke = (actor: User, k: ApiKey | undefined) => {
  const r = checkDeleteOrRevoke(actor, k, NOW);
  return r.ok ? r.action : r.refusal.code;
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
  // Nobody, an admin included, generates a key for someone else (behaviour §2).
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
  // Qlik's DELETE: the owner deletes, an admin revokes someone else's key.
  ['DELETE own active key', ['DEVELOPER_ROLE_REQUIRED', 'delete', 'DEVELOPER_ROLE_REQUIRED', 'delete'], (a) => delOrRevoke(a, key(a.id, 'active'))],
  ['DELETE own revoked key', ['DEVELOPER_ROLE_REQUIRED', 'delete', 'DEVELOPER_ROLE_REQUIRED', 'delete'], (a) => delOrRevoke(a, key(a.id, 'revoked'))],
  ["DELETE other's active key", ['KEY_NOT_FOUND', 'KEY_NOT_FOUND', 'revoke', 'revoke'], (a) => delOrRevoke(a, key('other', 'active'))],
  ["DELETE other's expired key", ['KEY_NOT_FOUND', 'KEY_NOT_FOUND', 'KEY_NOT_ACTIVE', 'KEY_NOT_ACTIVE'], (a) => delOrRevoke(a, key('other', 'expired'))],
  ['DELETE missing key', ['KEY_NOT_FOUND', 'KEY_NOT_FOUND', 'KEY_NOT_FOUND', 'KEY_NOT_FOUND'], (a) => delOrRevoke(a, undefined)],
  // The tenant keeps an admin: losing the role, or being removed, as the only one.
  ['lose TenantAdmin as the only admin', ['ok', 'ok', 'INVALID_INPUT', 'INVALID_INPUT'], (a) => codeOf(checkLastAdmin(a, a.roles.includes('TenantAdmin') ? 1 : 0, 'demote'))],
  ['lose TenantAdmin beside another admin', ['ok', 'ok', 'ok', 'ok'], (a) => codeOf(checkLastAdmin(a, 2, 'demote'))],
  ['be removed as the only admin', ['ok', 'ok', 'INVALID_INPUT', 'INVALID_INPUT'], (a) => codeOf(checkLastAdmin(a, a.roles.includes('TenantAdmin') ? 1 : 0, 'remove'))],
  ['be removed beside another admin', ['ok', 'ok', 'ok', 'ok'], (a) => codeOf(checkLastAdmin(a, 2, 'remove'))],
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

describe('excessive use', () => {
  const settings = { excessiveUsePerMinute: 100 };
  // A day of 1440 minutes: 14 400 uses is an average of 10 a minute, so 10× is 100.
  it.each([
    [100, 0, false, 'at the threshold is not beyond it'],
    [101, 0, true, 'beyond the threshold on a quiet day'],
    [101, 14_400, true, 'beyond 10× an average of 10 a minute'],
    [150, 21_600, false, 'beyond the threshold but only 10× an average of 15'],
    [151, 21_600, true, 'just beyond 10× an average of 15'],
    [50, 0, false, 'below the threshold, however quiet the day'],
  ])('%i uses in a minute, %i in the day → %s (%s)', (minute, day, expected) => {
    expect(excessiveUse(minute, day, settings).excessive).toBe(expected);
    if (!beatsUseThreshold(minute, settings)) expect(expected).toBe(false);
  });

  it('gives the day average it compared against', () => {
    expect(excessiveUse(500, 2880, settings).dailyAveragePerMinute).toBe(2);
  });

  it.each([
    [undefined, 0, true],
    [0, 3_599_999, false],
    [0, 3_600_000, true],
  ])('flagged at %s, minute at %i → may flag again: %s', (last, at, expected) => {
    expect(mayFlagExcessiveUse(last, at)).toBe(expected);
  });
});

// One rule for every stored text: what a description refuses, a tenant name
// and a user name refuse too, with a sentence naming the character.
describe('stored text', () => {
  const checks = { description: checkDescription, tenant: checkTenantName, user: checkUserName };
  it.each([
    ['plain', 'build bot', 'ok'],
    ['accents and CJK', 'clé für Zürich 鍵', 'ok'],
    ['emoji with presentation selector', 'deploy \u2764\ufe0f', 'ok'],
    ['emoji ZWJ sequence', 'family \u{1f468}\u200d\u{1f469}\u200d\u{1f467}', 'ok'],
    ['Persian word with ZWNJ', 'می\u200cخواهم', 'ok'],
    ['Devanagari conjunct with ZWJ', 'क\u094d\u200dष', 'ok'],
    ['escape sequence', 'a\u001b[31mred', 'control characters (U+001B at character 2)'],
    ['newline', 'a\nb', 'control characters (U+000A'],
    ['C1 control', 'a\u009bb', 'control characters (U+009B'],
    ['line separator', 'a\u2028b', 'control characters (U+2028'],
    ['right-to-left override', 'txt\u202eexe', 'bidirectional controls (U+202E at character 4)'],
    ['first-strong isolate', 'a\u2068b', 'bidirectional controls (U+2068'],
    ['right-to-left mark', 'a\u200fb', 'bidirectional controls (U+200F'],
    ['Arabic letter mark', 'a\u061cb', 'bidirectional controls (U+061C'],
    ['zero-width space', 'ab\u200bcd', 'invisible characters (U+200B at character 3)'],
    ['zero-width non-joiner in Latin', 'ab\u200ccd', 'invisible characters (U+200C'],
    ['zero-width joiner in Latin', 'ab\u200dcd', 'invisible characters (U+200D'],
    ['joiner after an emoji, before a letter', '\u{1f468}\u200dx', 'invisible characters (U+200D'],
    ['word joiner', 'ab\u2060cd', 'invisible characters (U+2060'],
    ['invisible plus', 'a\u2064b', 'invisible characters (U+2064'],
    ['byte-order mark', '\ufeffab', 'invisible characters (U+FEFF at character 1)'],
    ['soft hyphen', 'ad\u00admin', 'invisible characters (U+00AD'],
    ['Mongolian vowel separator', 'a\u180eb', 'invisible characters (U+180E'],
    ['Hangul filler', 'a\u3164b', 'invisible characters (U+3164'],
    ['tag character', 'a\u{e0041}b', 'invisible characters (U+E0041'],
    ['variation selector alone at the start', '\ufe0fab', 'a variation selector with nothing before it to vary (U+FE0F at character 1)'],
    ['variation selector after a space', 'a \ufe0fb', 'a variation selector with nothing before it to vary (U+FE0F at character 3)'],
    ['two variation selectors', '\u2764\ufe0f\ufe0e', 'a variation selector with nothing before it to vary (U+FE0E'],
  ])('%s', (_, text, expected) => {
    for (const [field, check] of Object.entries(checks)) {
      const r = check(text);
      // A user name is letters, digits and . _ @ + -: what passes the text rule may still fail its pattern.
      if (expected === 'ok') {
        if (field !== 'user') expect(r, field).toBeNull();
        continue;
      }
      expect(r?.code, field).toBe('INVALID_INPUT');
      expect(r?.message, field).toContain(`must not contain ${expected}`);
    }
  });

  it('refuses a description holding a token, without echoing it', () => {
    const token = `kw_${'a'.repeat(24)}_${'b'.repeat(32)}0123abcd`;
    for (const text of [token, `CI deploy ${token} copy`]) {
      const r = checkDescription(text);
      expect(r?.code).toBe('INVALID_INPUT');
      expect(r?.message).toMatch(/^The description must not hold a token \(kw_…\)/);
      expect(r?.message).not.toContain('aaaa');
    }
    // The prefix alone, or a key id, is no secret.
    expect(checkDescription(`replaces kw_${'a'.repeat(24)}`)).toBeNull();
  });

  it('refuses a token cut short, or run on into other text, in every stored text, without echoing it', () => {
    const token = `kw_${'a'.repeat(24)}_${'b'.repeat(32)}0123abcd`;
    // A piece past the key id gives the secret away (the checksum is worked out from it); \b found none of these.
    const pieces = [token.slice(0, -1), token.slice(0, 64), token.slice(0, 29), `${token}_prod`, `${token}2`, `${token}x`];
    for (const text of pieces) {
      for (const [field, check] of Object.entries(checks)) {
        const r = check(text);
        expect(r?.code, `${field}: ${text.length}`).toBe('INVALID_INPUT');
        expect(r?.message, field).toMatch(/must not hold a token \(kw_…\) or a piece of one/);
        expect(r?.message, field).not.toContain('aaaa');
        expect(r?.message, field).not.toContain('bbbb');
      }
    }
    // The key id, with its prefix and the underscore after it, is no secret.
    for (const text of [`replaces kw_${'a'.repeat(24)}_`, `kw_${'a'.repeat(24)}`]) expect(checkTenantName(text), text).toBeNull();
    expect(checkUserName(`kw_${'a'.repeat(24)}`)).toBeNull();
  });

  it('names the field in the sentence', () => {
    expect(checkDescription('ab\u200bcd')?.message).toBe('The description must not contain invisible characters (U+200B at character 3): they make the text look like other text.');
    expect(checkTenantName('ab\u200bcd')?.message).toMatch(/^The tenant name must not contain invisible characters/);
    expect(checkUserName('ab\u200bcd')?.message).toMatch(/^A user name must not contain invisible characters/);
  });

  it.each([
    ['', 'INVALID_INPUT'],
    ['   ', 'INVALID_INPUT'],
    ['x'.repeat(101), 'INVALID_INPUT'],
    [42, 'INVALID_INPUT'],
    ['x'.repeat(100), 'ok'],
    ['Acme Corp', 'ok'],
  ] as [unknown, string][])('tenant name %j → %s', (name, expected) => {
    expect(codeOf(checkTenantName(name))).toBe(expected);
  });
});
