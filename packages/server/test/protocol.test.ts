import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, errorCode, startHarness } from './helpers.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

const TWO_MB = 2 * 1024 * 1024;

/** Sends raw bytes on a fresh connection and returns everything the server wrote back. */
function rawExchange(bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const u = new URL(h.url);
    const socket = connect(Number(u.port), u.hostname, () => socket.end(bytes));
    let out = '';
    socket.setEncoding('utf8');
    socket.on('data', (d) => (out += d));
    socket.on('close', () => resolve(out));
    socket.on('error', reject);
  });
}

describe('what a client can send', () => {
  it('refuses a 2 MB body with 413, declared or streamed, and keeps serving', async () => {
    const big = JSON.stringify({ description: 'x'.repeat(TWO_MB) });
    const declared = await h.api('POST', '/api/v1/api-keys', { token: h.tokens.bob, raw: big, headers: { 'content-type': 'application/json' } });
    expect([declared.status, errorCode(declared)]).toEqual([413, 'PAYLOAD_TOO_LARGE']);

    // Chunked, with no Content-Length: refused while it arrives.
    const chunk = new TextEncoder().encode('x'.repeat(64 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent >= TWO_MB) return c.close();
        sent += chunk.length;
        c.enqueue(chunk);
      },
    });
    const res = await fetch(`${h.url}/api/v1/api-keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.tokens.bob}`, 'content-type': 'application/json' },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    const streamed = JSON.parse(await res.text());
    expect([res.status, streamed.errors[0].code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);

    // Just under the limit is read, and judged on its content.
    const under = JSON.stringify({ description: 'x'.repeat(1024 * 1024 - 100) });
    const judged = await h.api('POST', '/api/v1/api-keys', { token: h.tokens.bob, raw: under, headers: { 'content-type': 'application/json' } });
    expect([judged.status, errorCode(judged)]).toEqual([400, 'INVALID_INPUT']);
    expect(judged.body.errors[0].detail).toMatch(/at most 256 characters/);
    expect((await h.api('GET', '/api/v1/users/me', { token: h.tokens.bob })).status).toBe(200);
  });

  it('refuses broken JSON, a wrong or missing content type and bodies of the wrong shape with 400', async () => {
    const post = (raw: string, type?: string) => h.api('POST', '/api/v1/api-keys', { token: h.tokens.bob, raw, headers: type ? { 'content-type': type } : {} });
    const cases = [
      await post('{"description": "x"', 'application/json'),
      await post('', 'application/json'),
      await post('{"description": "x"}', 'text/plain'),
      await post('{"description": "x"}', 'application/x-www-form-urlencoded'),
      await post('{"description": "x"}'),
      await post('null', 'application/json'),
      await post('[1,2]', 'application/json'),
      await post('"a string"', 'application/json'),
      await post('{"description": 42}', 'application/json'),
      await post('{"description": "x", "sub": ["bob"]}', 'application/json'),
    ];
    for (const a of cases) expect([a.status, errorCode(a)]).toEqual([400, 'INVALID_INPUT']);
    expect(cases[2].body.errors[0].detail).toMatch(/Content-Type: application\/json/);
    // The JSON parser's message would quote the body back; the answer does not.
    const secret = await post(`{"token": "${h.tokens.alice}"`, 'application/json');
    expect(secret.text).not.toContain(h.tokens.alice.slice(28));
    // A charset parameter is fine.
    expect((await post('{"description": "charset"}', 'application/json; charset=utf-8')).status).toBe(201);
  });

  it('refuses a bad JSON Patch with 400', async () => {
    const key = (await h.api('POST', '/api/v1/api-keys', { token: h.tokens.bob, body: { description: 'patched' } })).body;
    const tenant = (await h.api('GET', '/api/v1/users/me', { token: h.tokens.alice })).body.tenantId;
    const patches: unknown[] = [
      { description: 'merge patch, not JSON Patch' },
      [{ op: 'add', path: '/description', value: 'x' }],
      [{ op: 'remove', path: '/description' }],
      [{ path: '/description', value: 'x' }],
      [{ op: 'replace', value: 'x' }],
      [{ op: 'replace', path: 'description', value: 'x' }],
      [{ op: 'replace', path: '/a/b', value: 'x' }],
      [{ op: 'replace', path: '/description' }],
      ['replace'],
      [null],
    ];
    for (const body of patches) {
      const k = await h.api('PATCH', `/api/v1/api-keys/${key.id}`, { token: h.tokens.bob, body });
      expect([JSON.stringify(body), k.status, errorCode(k)]).toEqual([JSON.stringify(body), 400, 'INVALID_INPUT']);
      const c = await h.api('PATCH', `/api/v1/api-keys/configs/${tenant}`, { token: h.tokens.alice, body });
      expect([JSON.stringify(body), c.status, errorCode(c)]).toEqual([JSON.stringify(body), 400, 'INVALID_INPUT']);
    }
    expect((await h.api('GET', `/api/v1/api-keys/${key.id}`, { token: h.tokens.bob })).body.description).toBe('patched');
  });

  it('answers unknown routes with 404, wrong methods with 405 and Allow, broken escapes with 400', async () => {
    for (const path of ['/', '/api/v1', '/api/v2/api-keys', '/api/v1/api-keys/a/b/c', '/api/v1/nothing', '//api/v1/api-keys']) {
      const a = await h.api('GET', path, { token: h.tokens.bob });
      expect([path, a.status, errorCode(a)]).toEqual([path, 404, 'NOT_FOUND']);
    }
    // Unknown routes are 404 with or without a token.
    expect((await h.api('GET', '/nothing')).status).toBe(404);
    const put = await h.api('PUT', '/api/v1/api-keys', { token: h.tokens.bob, body: {} });
    expect([put.status, errorCode(put), put.headers.get('allow')]).toEqual([405, 'METHOD_NOT_ALLOWED', 'GET, POST']);
    // (DELETE /users/me is DELETE /users/{name}: removing a user, for admins.)
    const post = await h.api('POST', '/api/v1/users/me', { token: h.tokens.bob, body: {} });
    expect([post.status, errorCode(post), post.headers.get('allow')]).toEqual([405, 'METHOD_NOT_ALLOWED', 'GET, PATCH, DELETE']);
    const getVerify = await h.api('GET', '/api/v1/audits/x', { token: h.tokens.bob });
    expect(getVerify.status).toBe(404);
    const escape = await h.api('GET', '/api/v1/api-keys/%E0%A4%A', { token: h.tokens.bob });
    expect([escape.status, errorCode(escape)]).toEqual([400, 'INVALID_INPUT']);
    // HEAD is GET without a body.
    const head = await fetch(`${h.url}/api/v1/users/me`, { method: 'HEAD', headers: { authorization: `Bearer ${h.tokens.bob}` } });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('answers requests that are not HTTP at all in the API shape, without falling over', async () => {
    const garbage = await rawExchange('HELLO THERE\r\n\r\n');
    expect(garbage).toMatch(/^HTTP\/1\.1 400/);
    expect(garbage).toContain('"code":"INVALID_INPUT"');
    const huge = await rawExchange(`GET /api/v1/users/me HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`);
    expect(huge).toMatch(/^HTTP\/1\.1 4\d\d/);
    expect((await h.api('GET', '/api/v1/users/me', { token: h.tokens.bob })).status).toBe(200);
  });

  it('never answers a client mistake with a 5xx (seeded fuzz over every route, as an admin and as a developer)', async () => {
    // Its own server: the fuzz revokes and renames at random.
    const f = await startHarness({ authThrottle: { burst: 10_000, perMinute: 10_000 } });
    try {
      let seed = 42;
      const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
      const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
      const tenant = (await f.api('GET', '/api/v1/users/me', { token: f.tokens.alice })).body.tenantId;
      // A key of carol's that is not the one her token belongs to, for the routes that change a key.
      const victim = (await f.api('POST', '/api/v1/api-keys', { token: f.tokens.carol, body: { description: 'victim' } })).body.id;
      const paths = [
        '/api/v1/api-keys',
        '/api/v1/api-keys/verify',
        '/api/v1/api-keys/revoke',
        '/api/v1/api-keys/usage',
        `/api/v1/api-keys/configs/${tenant}`,
        '/api/v1/api-keys/configs/other',
        `/api/v1/api-keys/${victim}`,
        `/api/v1/api-keys/${victim}/revoke`,
        '/api/v1/api-keys/__proto__',
        '/api/v1/users',
        '/api/v1/users/me',
        '/api/v1/users/bob',
        '/api/v1/users/__proto__',
        '/api/v1/users/constructor',
        '/api/v1/users/%00',
        '/api/v1/audits',
      ];
      const queries = ['', '?limit=-5', '?limit=1e9', '?sort=__proto__', '?since=P1D', '?until=%ff', '?eventType=x', '?startingAfter=__proto__', '?status=%00', '?offset=1e400', '?keyId=zz', '?since=99999-01-01', '?mode=delete'];
      const values = [null, true, false, 0, -1, 1.5, 1e308, '', 'x', '__proto__', 'P1D', 'P0D', 'P99999999999Y', [], {}, { __proto__: { polluted: true } }, '\u0000', 'a'.repeat(300)];
      const fields = ['description', 'expiry', 'sub', 'ids', 'token', 'name', 'licence', 'developer', 'admin', '__proto__', 'constructor', 'api_keys_enabled', 'max_keys_per_user', 'max_api_key_expiry', 'excessive_use_per_minute'];
      const body = () => {
        switch (Math.floor(rand() * 4)) {
          case 0:
            return Object.fromEntries(Array.from({ length: 1 + Math.floor(rand() * 3) }, () => [pick(fields), pick(values)]));
          case 1:
            return Array.from({ length: 1 + Math.floor(rand() * 2) }, () => ({ op: pick(['replace', 'replace', 'add']), path: `/${pick(fields)}`, value: pick(values) }));
          case 2:
            return pick(values);
          default:
            return { ids: [pick(values), victim] };
        }
      };
      const statuses = new Set<number>();
      for (let i = 0; i < 400; i++) {
        const method = pick(['GET', 'POST', 'PATCH', 'DELETE', 'PUT']);
        const path = pick(paths) + pick(queries);
        const token = i % 2 ? f.tokens.alice : f.tokens.carol;
        const a = await f.api(method, path, { token, body: method === 'GET' ? undefined : body() });
        expect(a.status, `${method} ${path} → ${a.text}`).toBeLessThan(500);
        if (a.status >= 400) errorCode(a);
        statuses.add(a.status);
      }
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      // The fuzz was heard, not just turned away at the door.
      expect([...statuses].filter((s) => s < 300).length).toBeGreaterThan(0);
      expect((await f.api('GET', '/api/v1/users/me', { token: f.tokens.alice })).status).toBe(200);
      expect((await f.api('GET', '/api/v1/users/me', { token: f.tokens.carol })).status).toBe(200);
      expect(f.logs.some((l) => l.includes('"status":5'))).toBe(false);
    } finally {
      await f.close();
    }
  });

  it('logs one JSON line per request: method, path, status, time, user — and no token', async () => {
    const before = h.logs.length;
    await h.api('GET', '/api/v1/api-keys?limit=5&sort=-created', { token: h.tokens.bob });
    await h.api('GET', '/api/v1/users/me', { token: 'kw_not_a_token' });
    await h.api('GET', '/api/v1/missing');
    await new Promise((r) => setTimeout(r, 50));
    const lines = h.logs.slice(before).map((l) => JSON.parse(l));
    expect(lines.length).toBe(3);
    expect(lines[0]).toMatchObject({ method: 'GET', path: '/api/v1/api-keys', query: 'limit&sort', status: 200, user: 'bob', key: h.keyIds.bob });
    expect(typeof lines[0].ms).toBe('number');
    expect(Date.parse(lines[0].time)).not.toBeNaN();
    expect(lines[1]).toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
    expect(lines[1].user).toBeUndefined();
    expect(lines[2]).toMatchObject({ status: 404, code: 'NOT_FOUND' });
    expect(h.logs.join('\n')).not.toContain('kw_not_a_token');
  });
});
