// Contract and token-as-secret fixes: any id shape is 404 KEY_NOT_FOUND and
// never echoes a token, a token of an unlicensed user stops working, a
// timed-out request gets the error body, every authenticated answer says when
// its token ends, and IPv6 is slowed down by /64.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRemoteService } from '@keyward/core';
import { AuthFailureThrottle, throttleKeyOf } from '../src/auth.js';
import { type Harness, errorCode, startHarness } from './helpers.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ requestTimeoutMs: 1000, authThrottle: { burst: 1000, perMinute: 1000 } });
});
afterAll(() => h.close());

describe('key routes', () => {
  it('answer 404 KEY_NOT_FOUND for an id of any shape, and never echo a token', async () => {
    for (const id of ['nope', '123', 'a'.repeat(25), 'ABCDEF0123456789abcdef01', '%20', h.tokens.bob]) {
      const path = `/api/v1/api-keys/${encodeURIComponent(id)}`;
      for (const [method, body] of [['GET'], ['PATCH', [{ op: 'replace', path: '/description', value: 'x' }]], ['DELETE'], ['POST']] as const) {
        const a = await h.api(method, method === 'POST' ? `${path}/revoke` : path, { token: h.tokens.alice, body });
        expect([id, method, a.status, errorCode(a)]).toEqual([id, method, 404, 'KEY_NOT_FOUND']);
        expect(a.text).not.toContain(h.tokens.bob.slice(28, 40));
      }
    }
  });
});

describe('a token of a user without a licence', () => {
  it('stops authenticating at once, and works again when the licence is given back', async () => {
    const k = (await h.api('POST', '/api/v1/api-keys', { token: h.tokens.carol, body: { description: 'licence test' } })).body;
    expect((await h.api('GET', '/api/v1/users/me', { token: k.token })).status).toBe(200);
    const take = await h.api('PATCH', '/api/v1/users/carol', { token: h.tokens.alice, body: [{ op: 'replace', path: '/licence', value: false }] });
    expect(take.status).toBeLessThan(300);
    const refused = await h.api('GET', '/api/v1/users/me', { token: k.token });
    expect([refused.status, errorCode(refused)]).toEqual([401, 'UNAUTHENTICATED']);
    expect(refused.body.errors[0].detail).toMatch(/licence/);
    const verify = await h.api('POST', '/api/v1/api-keys/verify', { token: h.tokens.alice, body: { token: k.token } });
    expect(verify.body).toEqual({ valid: false, code: 'UNAUTHENTICATED', reason: 'unlicensed' });
    await h.api('PATCH', '/api/v1/users/carol', { token: h.tokens.alice, body: [{ op: 'replace', path: '/licence', value: true }] });
    expect((await h.api('GET', '/api/v1/users/me', { token: k.token })).status).toBe(200);
  });
});

describe('a request that times out', () => {
  it('gets 408 with the {errors:[…]} body', async () => {
    const u = new URL(h.url);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(u.port), u.hostname, () => socket.write('POST /api/v1/api-keys HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"desc'));
      let out = '';
      socket.setEncoding('utf8');
      socket.on('data', (d) => (out += d));
      socket.on('close', () => resolve(out));
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));
    expect(body).toEqual({ errors: [{ code: 'REQUEST_TIMEOUT', title: 'Request timeout', detail: expect.any(String), status: 408 }] });
  });
});

describe('Keyward-Token-Expiration', () => {
  it('is on every authenticated answer, refusals included, and on no other', async () => {
    const key = (await h.api('GET', `/api/v1/api-keys/${h.keyIds.bob}`, { token: h.tokens.bob })).body;
    const ok = await h.api('GET', '/api/v1/users/me', { token: h.tokens.bob });
    expect(ok.headers.get('keyward-token-expiration')).toBe(key.expiry);
    const refused = await h.api('GET', '/api/v1/audits', { token: h.tokens.bob });
    expect([refused.status, refused.headers.get('keyward-token-expiration')]).toEqual([403, key.expiry]);
    const anonymous = await h.api('GET', '/api/v1/users/me');
    expect([anonymous.status, anonymous.headers.get('keyward-token-expiration')]).toEqual([401, null]);
  });

  it('makes the remote adapter warn once when its token ends within 7 days, and not otherwise', async () => {
    const short = (await h.api('POST', '/api/v1/api-keys', { token: h.tokens.carol, body: { description: 'ends soon', expiry: 'P3D' } })).body;
    const warnings: string[] = [];
    const soon = createRemoteService(h.url, short.token, { onTokenExpiring: (e) => warnings.push(e) });
    await soon.whoami();
    await soon.listKeys();
    expect(warnings).toEqual([short.expiry]);
    const quiet: string[] = [];
    await createRemoteService(h.url, h.tokens.carol, { onTokenExpiring: (e) => quiet.push(e) }).whoami();
    expect(quiet).toEqual([]);
  });
});

describe('the failure slow-down', () => {
  it('counts IPv6 clients by /64 and IPv4 by address', () => {
    expect(throttleKeyOf('2001:db8:1:2:aaaa:bbbb:cccc:dddd')).toBe('2001:db8:1:2::/64');
    expect(throttleKeyOf('2001:db8:1:2::1')).toBe('2001:db8:1:2::/64');
    expect(throttleKeyOf('2001:0db8:0001:0002:ffff::9')).toBe('2001:db8:1:2::/64');
    expect(throttleKeyOf('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(throttleKeyOf('::1')).toBe('0:0:0:0::/64');
    expect(throttleKeyOf('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(throttleKeyOf('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(throttleKeyOf('192.0.2.7')).toBe('192.0.2.7');
    // A client hopping between addresses of its /64 drains one budget.
    const t = new AuthFailureThrottle({ burst: 2, perMinute: 1 });
    expect([t.fail('2001:db8:1:2::a', 0), t.fail('2001:db8:1:2::b', 0), t.fail('2001:db8:1:2:ffff::c', 0)].map((w) => w > 0)).toEqual([false, false, true]);
    expect(t.fail('2001:db8:1:3::a', 0)).toBe(0);
  });
});
