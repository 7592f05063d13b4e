// A hostile Keyward server cannot reach the terminal through `keyward`: a real
// HTTP server on loopback answers every request with escape sequences (OSC
// retitling, SGR colours, 8-bit CSI, a bidi override, an invisible character)
// in a refusal's title and detail and in every text field of its answers; the
// real `keyward --server` prints what it says with none of those bytes raw —
// shown visibly instead — on stdout and stderr, and --json gives the same
// values back as escapes.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newKeyId, newToken } from '@keyward/core';
import { keywardAsync, type Result } from './support/keyward.js';

const HOSTILE = '\u001b]0;pwned\u0007\u001b[31mred\u001b[0m\u009b2J\u009d0;c1\u009c\u202eevil\u200b!';
// What may not reach a terminal raw: C0 controls but the line break, DEL, C1, bidi controls, invisible characters.
const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u200b]/;

const keyId = newKeyId();
const token = newToken(newKeyId());
const when = new Date(Date.now() + 86_400_000).toISOString();
const hostileKey = { id: keyId, tenantId: HOSTILE, description: HOSTILE, sub: HOSTILE, subType: 'user', status: 'active', created: when, createdByUser: HOSTILE, lastUpdated: when, expiry: when, lastUsed: when, actions: { rename: true, delete: true, revoke: true, rotate: true } };
const hostileUser = { id: HOSTILE, name: HOSTILE, licence: true, roles: ['TenantAdmin', HOSTILE], actions: { setLicence: true, setRoles: true, demote: true, remove: true } };

function answer(method: string, path: string): { status: number; body: unknown } {
  const refusal = (status: number, code: string) => ({ status, body: { errors: [{ status: String(status), code, title: HOSTILE, detail: HOSTILE }] } });
  if (path === `/api/v1/api-keys/${keyId}`) return refusal(404, 'KEY_NOT_FOUND');
  if (method === 'GET' && path === '/api/v1/api-keys') return { status: 200, body: { data: [hostileKey], links: { self: { href: path } }, meta: { total: 1 } } };
  if (method === 'GET' && path === '/api/v1/users') return { status: 200, body: { data: [hostileUser] } };
  return refusal(403, 'ADMIN_ROLE_REQUIRED');
}

let server: Server;
let url: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const { status, body } = answer(req.method ?? 'GET', new URL(req.url ?? '/', 'http://x').pathname);
    res.writeHead(status, { 'content-type': status < 400 ? 'application/json' : 'application/problem+json' });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const run = (...args: string[]) => keywardAsync(['--server', url, ...args], { KEYWARD_TOKEN: token });

function expectInert(r: Result): void {
  for (const [name, text] of [['stdout', r.stdout], ['stderr', r.stderr]] as const) {
    const raw = RAW.exec(text);
    expect(raw, `${name} holds U+${raw?.[0].codePointAt(0)!.toString(16).padStart(4, '0')} raw: ${JSON.stringify(text)}`).toBeNull();
  }
}

// The hostile text as a person reads it: every unsafe character shown, none acted on.
const SHOWN = '␛]0;pwned^G␛[31mred␛[0m\\u009b2J\\u009d0;c1\\u009c\\u202eevil\\u200b!';

describe('keyward against a hostile server', () => {
  it("prints a refusal's detail inert, with its code, and exits 1", async () => {
    const r = await run('keys', 'get', keyId);
    expectInert(r);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`error: ${SHOWN} (KEY_NOT_FOUND)\n`);
    expect(r.stdout).toBe('');
  });

  it('prints the fields of an answer inert (keys, users) and a refused command inert', async () => {
    for (const args of [['keys', 'ls'], ['users', 'ls'], ['keys', 'revoke', keyId], ['users', 'add', 'bob'], ['settings'], ['events', 'ls']]) {
      const r = await run(...args);
      expectInert(r);
      expect(r.stdout + r.stderr, args.join(' ')).toContain(SHOWN);
    }
  });

  it('gives scripts the same values back with --json, escaped', async () => {
    for (const args of [['keys', 'ls', '--json'], ['keys', 'get', keyId, '--json']]) {
      const r = await run(...args);
      expectInert(r);
      const doc = JSON.parse(r.stdout) as { data?: (typeof hostileKey)[]; error?: { code: string; message: string } };
      if (doc.data) expect(doc.data[0]).toMatchObject({ description: HOSTILE, sub: HOSTILE });
      else expect(doc.error).toEqual({ code: 'KEY_NOT_FOUND', message: HOSTILE });
    }
  });
});
