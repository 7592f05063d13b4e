// The request log is read on a terminal (`keyward serve` writes it to stdout):
// a client's text in it — a query parameter's name — is escaped there like
// everything else a face prints, and each line still parses to what was asked.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loggableQuery } from '../src/request-log.js';
import { type Harness, startHarness } from './helpers.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

describe('the request log', () => {
  it('holds no control, bidirectional or invisible character of a client raw', async () => {
    const names = ['\u001b]0;pwned\u0007', '\u009b2J', '\u202eevil', 'zero\u200bwidth'];
    const query = names.map((n) => `${encodeURIComponent(n)}=1`).join('&');
    await h.api('GET', `/api/v1/api-keys?${query}`, { token: h.tokens.alice });
    const line = h.logs.find((l) => l.includes('pwned'));
    expect(line).toBeDefined();
    expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u200b]/);
    expect((JSON.parse(line!) as { query: string }).query).toBe(names.join('&'));
  });
});

describe('a query’s names in the log', () => {
  it('read off a plain query are the names URLSearchParams reads, in order, once each; a token-like name is masked', () => {
    const slow = (search: string) => {
      const names = [...new Set([...new URLSearchParams(search).keys()].map((n) => (/kw_/i.test(n) ? '[token]' : n)))].join('&');
      return names || undefined;
    };
    // Every string of up to four of these characters, with and without the leading ?.
    const alphabet = ['a', 'b', '=', '&', '1', '_', '?'];
    const strings = [''];
    for (let n = 0; n < 4; n++) for (const s of strings.filter((x) => x.length === n)) for (const c of alphabet) strings.push(s + c);
    for (const s of strings) for (const search of [s, `?${s}`]) expect(loggableQuery(search), search).toBe(slow(search));
    expect(loggableQuery('?limit=20&sort=-created&limit=5')).toBe('limit&sort');
    expect(loggableQuery('?kw_x=1&limit=2')).toBe('[token]&limit');
  });
});

describe('a request id', () => {
  it('comes back and is logged where the request came with a plain one (a load balancer’s X-Request-Id), and is made for nothing else', async () => {
    const id = '6f1c2a9e-4b7d-4c1e-9a0b-3d2e1f0a9b8c';
    const a = await h.api('GET', '/api/v1/users/me', { token: h.tokens.bob, headers: { 'x-request-id': id } });
    expect([a.status, a.headers.get('x-request-id')]).toEqual([200, id]);
    expect(h.logs.map((l) => JSON.parse(l) as { requestId?: string }).filter((e) => e.requestId === id)).toHaveLength(1);
    // A refusal keeps it too; an answer to a request without one carries none (nothing goes wrong on the server's side).
    expect((await h.api('GET', '/api/v1/users/me', { token: 'kw_nope', headers: { 'x-request-id': 'lb-7' } })).headers.get('x-request-id')).toBe('lb-7');
    expect((await h.api('GET', '/api/v1/users/me', { token: h.tokens.bob })).headers.get('x-request-id')).toBeNull();
  });

  it('is dropped, not logged, when it is not plain text of a sane length, or holds something token-like', async () => {
    const lines = h.logs.length;
    for (const id of ['x'.repeat(129), 'has space', 'semi;colon', `a${h.tokens.carol}`, 'KW_abc', 'é']) {
      const a = await h.api('GET', '/api/v1/users/me', { token: h.tokens.bob, headers: { 'x-request-id': id } });
      expect([a.status, a.headers.get('x-request-id')], id).toEqual([200, null]);
    }
    const logged = h.logs.slice(lines).join('\n');
    expect(logged).not.toContain('requestId');
    expect(logged).not.toContain(h.tokens.carol.slice(3, 20));
  });
});
