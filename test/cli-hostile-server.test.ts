// A hostile Keyward server cannot reach the terminal through `keyward`: a real
// HTTP server on loopback (support/hostile-server.ts) answers with escape
// sequences, a bidi override and an invisible character in a refusal's title
// and detail and in every text field of its answers; the real
// `keyward --server` prints what it says with none of those bytes raw — shown
// visibly instead — on stdout and stderr, and --json gives the same values back
// as escapes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOSTILE, type HostileServer, SHOWN, hostileKeyId, hostileToken, startHostileServer } from './support/hostile-server.js';
import { keywardAsync, type Result } from './support/keyward.js';

// Stricter than the hostile text needs: no C0 control but the line break, no DEL, C1, bidi control or zero-width space.
const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u200b]/;

let server: HostileServer;
beforeAll(async () => {
  server = await startHostileServer({ signIn: true });
});
afterAll(() => server.close());

const run = (...args: string[]) => keywardAsync(['--server', server.url, ...args], { KEYWARD_TOKEN: hostileToken });

function expectInert(r: Result): void {
  for (const [name, text] of [['stdout', r.stdout], ['stderr', r.stderr]] as const) {
    const raw = RAW.exec(text);
    expect(raw, `${name} holds U+${raw?.[0].codePointAt(0)!.toString(16).padStart(4, '0')} raw: ${JSON.stringify(text)}`).toBeNull();
  }
}

describe('keyward against a hostile server', () => {
  it("prints a refusal's detail inert, with its code, and exits 1", async () => {
    const r = await run('keys', 'get', hostileKeyId);
    expectInert(r);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`error: ${SHOWN} (KEY_NOT_FOUND)\n`);
    expect(r.stdout).toBe('');
  });

  it('prints the fields of an answer inert (keys, users) and a refused command inert', async () => {
    for (const args of [['keys', 'ls'], ['users', 'ls'], ['keys', 'revoke', hostileKeyId], ['users', 'add', 'bob'], ['settings'], ['events', 'ls']]) {
      const r = await run(...args);
      expectInert(r);
      expect(r.stdout + r.stderr, args.join(' ')).toContain(SHOWN);
    }
  });

  it('gives scripts the same values back with --json, escaped', async () => {
    const list = await run('keys', 'ls', '--json');
    expectInert(list);
    expect((JSON.parse(list.stdout) as { data: unknown[] }).data[0]).toMatchObject({ description: HOSTILE, sub: HOSTILE });
    const refused = await run('keys', 'get', hostileKeyId, '--json');
    expectInert(refused);
    expect(JSON.parse(refused.stdout)).toEqual({ error: { code: 'KEY_NOT_FOUND', message: HOSTILE } });
  });
});
