// Bad input through the real `keyward` process: each gets one clear error line
// with its behaviour §5 code (exit 1 for a refusal, 2 for a usage mistake), never a
// stack trace, and the store is left exactly as it was.
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { crc32 } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { keywardAsync, tempDir } from './support/keyward.js';
import { bootstrap } from './support/flow.js';

let store: string;
let bobKey: string;

beforeAll(async () => {
  store = join(tempDir(), 'keyward.json');
  bootstrap(store);
  const r = await keywardAsync(['keys', 'ls', '--owner', 'bob', '--json'], { KEYWARD_STORE: store, KEYWARD_USER: 'alice' });
  bobKey = JSON.parse(r.stdout).data[0].id;
});

const long = 'x'.repeat(10_000);
// [args, code, exit, acting user]
const cases: [string[], string, number, string?][] = [
  [['keys', 'create', '--description', 'x', '--expiry', 'tomorrow'], 'INVALID_EXPIRY', 1],
  [['keys', 'create', '--description', 'x', '--expiry', 'P0D'], 'INVALID_EXPIRY', 1],
  [['keys', 'create', '--description', 'x', '--expiry=-5d'], 'INVALID_EXPIRY', 1],
  [['keys', 'create', '--description', 'x', '--expiry', 'P1.5D'], 'INVALID_EXPIRY', 1],
  [['keys', 'create', '--description', 'x', '--expiry', 'P999999999999999999999D'], 'INVALID_EXPIRY', 1],
  [['keys', 'create', '--description', 'x', '--expiry', 'P31D'], 'EXPIRY_TOO_LONG', 1],
  [['keys', 'create', '--description', ''], 'INVALID_INPUT', 1],
  [['keys', 'create', '--description', '   '], 'INVALID_INPUT', 1],
  [['keys', 'create', '--description', long], 'INVALID_INPUT', 1],
  [['keys', 'create', '--description', 'bell \u0007 ring'], 'INVALID_INPUT', 1],
  [['keys', 'create', '--description', 'clear \u001b[2J screen'], 'INVALID_INPUT', 1],
  [['keys', 'create'], 'INVALID_INPUT', 2],
  [['keys', 'create', '--description', 'x', '--owner', 'ghost'], 'INVALID_INPUT', 2],
  [['settings', 'set', '--max-keys', '1001'], 'INVALID_SETTING', 1],
  [['settings', 'set', '--max-keys', '-1'], 'INVALID_SETTING', 1],
  [['settings', 'set', '--max-keys', 'ten'], 'INVALID_SETTING', 1],
  [['settings', 'set', '--max-keys', '2.5'], 'INVALID_SETTING', 1],
  [['settings', 'set', '--max-expiry', 'forever'], 'INVALID_SETTING', 1],
  [['settings', 'set', '--max-expiry', 'PT0S'], 'INVALID_SETTING', 1],
  [['settings', 'set', '--enabled', 'maybe'], 'INVALID_SETTING', 1],
  [['settings', 'set'], 'INVALID_INPUT', 2],
  [['--refresh', '0'], 'INVALID_INPUT', 1],
  [['--refresh', '2.5'], 'INVALID_INPUT', 1],
  [['--refresh', '3601'], 'INVALID_INPUT', 1],
  [['settings', 'set', '--enabled', 'off'], 'ADMIN_ROLE_REQUIRED', 1, 'bob'],
  [['users', 'add', 'not a name'], 'INVALID_INPUT', 1],
  [['users', 'add', long], 'INVALID_INPUT', 1],
  [['users', 'add', 'bob'], 'INVALID_INPUT', 1],
  [['users', 'set', 'ghost', '--licence', 'on'], 'USER_NOT_FOUND', 1],
  [['users', 'set', 'bob', '--developer', 'sometimes'], 'INVALID_INPUT', 1],
  [['users', 'set', 'alice', '--admin', 'off'], 'INVALID_INPUT', 1],
  [['users', 'ls'], 'ADMIN_ROLE_REQUIRED', 1, 'bob'],
  [['keys', 'ls'], 'USER_NOT_FOUND', 1, 'mallory'],
  [['keys', 'get', 'nope'], 'KEY_NOT_FOUND', 1],
  [['keys', 'get', 'f'.repeat(24)], 'KEY_NOT_FOUND', 1],
  [['keys', 'get'], 'INVALID_INPUT', 2],
  [['keys', 'rename', 'f'.repeat(24), 'new name'], 'KEY_NOT_FOUND', 1],
  [['keys', 'rename', 'BOBKEY', 'x'], 'NOT_KEY_OWNER', 1],
  [['keys', 'rename', 'BOBKEY', ''], 'INVALID_INPUT', 1, 'bob'],
  [['keys', 'revoke', 'f'.repeat(24)], 'KEY_NOT_FOUND', 1],
  [['keys', 'revoke', 'BOBKEY'], 'ADMIN_ROLE_REQUIRED', 1, 'bob'],
  [['keys', 'rm', 'zzz'], 'KEY_NOT_FOUND', 1],
  [['keys', 'rm'], 'INVALID_INPUT', 2],
  [['keys', 'ls', '--status', 'dead'], 'INVALID_INPUT', 2],
  [['keys', 'ls', '--status', 'inactive'], 'INVALID_INPUT', 2],
  [['keys', 'ls', '--sort', 'colour'], 'INVALID_INPUT', 1],
  [['keys', 'ls', '--limit', 'lots'], 'INVALID_INPUT', 1],
  [['keys', 'ls', '--limit', '0'], 'INVALID_INPUT', 1],
  [['keys', 'ls', '--bogus'], 'INVALID_INPUT', 2],
  [['keys', 'ls', '--store'], 'INVALID_INPUT', 2],
  [['keys', 'explode'], 'INVALID_INPUT', 2],
  [['frobnicate'], 'INVALID_INPUT', 2],
  [['events', 'ls', '--since', 'last tuesday'], 'INVALID_INPUT', 1],
  [['events', 'ls', '--type', 'api-key.exploded'], 'INVALID_INPUT', 1],
  [['events', 'ls', '--key', 'nope'], 'KEY_NOT_FOUND', 1],
  [['events', 'ls', '--key', 'abc'], 'INVALID_INPUT', 1],
  [['usage', '--since', 'ages'], 'INVALID_INPUT', 1],
  [['init'], 'INVALID_INPUT', 1],
];

/** Every file of the store (snapshot, journal, event segments, usage), by name. */
function storeBytes(): string {
  return readdirSync(dirname(store), { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath ?? d.path, d.name))
    .sort()
    .map((f) => `--${f}--\n${readFileSync(f, 'utf8')}`)
    .join('\n');
}

describe('bad input through the command line', () => {
  it(`has at least 30 cases`, () => expect(cases.length).toBeGreaterThanOrEqual(30));

  it.each(cases.map(([args, code, exit, user]) => ({ args, code, exit, user: user ?? 'alice', label: args.join(' ').slice(0, 60) })))(
    '$label → $code',
    async ({ args, code, exit, user }) => {
      const before = storeBytes();
      const argv = args.map((a) => (a === 'BOBKEY' ? bobKey : a));
      for (const json of [false, true]) {
        const r = await keywardAsync(json ? [...argv, '--json'] : argv, { KEYWARD_STORE: store, KEYWARD_USER: user });
        expect(r.code, r.stderr).toBe(exit);
        expect(r.stderr + r.stdout).not.toMatch(/\n\s+at |Error:|node:internal/);
        if (json) {
          expect(JSON.parse(r.stdout)).toEqual({ error: { code, message: expect.any(String) } });
        } else {
          const first = r.stderr.split('\n')[0];
          expect(first).toMatch(new RegExp(`^error: [^\\n]+ \\(${code}\\)$`));
          expect(first).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
          expect(first.length).toBeLessThan(400);
          expect(r.stdout).toBe('');
          if (exit === 2) expect(r.stderr).toMatch(/Usage:?\s+keyward/);
        }
      }
      expect(storeBytes()).toBe(before);
    },
  );
});

describe('a refusal that echoes bad input', () => {
  const env = () => ({ KEYWARD_STORE: store, KEYWARD_USER: 'alice' });

  it('shows it as typed: letters of any script read as letters, not \\u escapes', async () => {
    const r = await keywardAsync(['users', 'add', 'zoë'], env());
    expect(r.stderr).toContain('"zoë" is not a valid user name');
    const j = await keywardAsync(['keys', 'create', '--description', 'x', '--expiry', '３０日', '--json'], env());
    expect(JSON.parse(j.stdout).error.message).toContain('"３０日" is not a duration');
    // Cut after 40 characters, never inside one: an emoji is not split into a lone surrogate.
    const long = await keywardAsync(['users', 'add', '😀'.repeat(45), '--json'], env());
    expect(JSON.parse(long.stdout).error.message).toContain(`"${'😀'.repeat(40)}…"`);
  });

  it('never echoes a token typed where a command belongs, not even its secret in part', async () => {
    const body = `kw_${'a'.repeat(24)}_${'b'.repeat(32)}`;
    const token = body + crc32(body).toString(16).padStart(8, '0');
    for (const args of [['keys', token], [token], ['help', 'keys', token]]) {
      for (const json of [false, true]) {
        const r = await keywardAsync(json ? [...args, '--json'] : args, env());
        expect(r.code).toBe(2);
        expect(r.stdout + r.stderr).toMatch(/\\?"kw_a{24}_…\\?" is not a (keys|keyward) command/);
        expect(r.stdout + r.stderr).not.toContain('bbbb');
      }
    }
  });

  it('never echoes a token typed as an option, one word too far or as a value no token is, not even its secret in part', async () => {
    const body = `kw_${'a'.repeat(24)}_${'b'.repeat(32)}`;
    const token = body + crc32(body).toString(16).padStart(8, '0');
    const missing = join(tempDir(), 'none.json');
    // [args, exit, what the message names]
    const mistakes: [string[], number, RegExp][] = [
      [['keys', 'ls', `--${token}`], 2, /Unknown option --kw_a{24}_… for/],
      [['keys', 'ls', `--${token}=x`], 2, /Unknown option --kw_a{24}_… for/],
      [['keys', 'ls', `--no-${token}`], 2, /Unknown option --no-kw_a{24}_… for/],
      [['keys', 'get', 'abc', token], 2, /Unexpected argument \\?"kw_a{24}_…\\?"/],
      [['keys', 'ls', '--server', token], 1, /work against kw_a{24}_…\./],
      // A token where the description belongs: refused, not stored (lists and events would show it).
      [['keys', 'create', '--description', token], 1, /The description must not hold a token \(kw_…\)/],
      [['store', 'copy', '--from', join(dirname(missing), token), '--to', missing], 1, /no Keyward store at \S+kw_a{24}_… to copy/],
    ];
    for (const [args, exit, names] of mistakes) {
      for (const json of [false, true]) {
        const r = await keywardAsync(json ? [...args, '--json'] : args, env());
        expect(r.code, r.stderr).toBe(exit);
        expect(r.stdout + r.stderr).toMatch(names);
        expect(r.stdout + r.stderr).not.toMatch(/bbbb|b-b/);
      }
    }
  });

  it('still escapes what no text may hold raw', async () => {
    const r = await keywardAsync(['users', 'set', 'e\u001b[31mx\u202ey', '--developer', 'on', '--json'], env());
    const message: string = JSON.parse(r.stdout).error.message;
    expect(message).toContain('"e\\u001b[31mx\\u202ey"');
    expect(r.stdout + r.stderr).not.toMatch(/[\u001b\u202e]/);
  });
});
