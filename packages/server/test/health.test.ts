// GET /api/v1/health: what a load balancer asks before sending a server
// requests. No bearer; it says only whether the store answers. Its 503 while
// the database is away is in test/postgres-outage.pg.test.ts, with a real
// PostgreSQL stopped and started — and there, GET /api/v1/health/live (what a
// supervisor asks to know the process answers at all) still 200.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './helpers.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ authThrottle: { burst: 2, perMinute: 1 } });
});
afterAll(() => h.close());

describe('GET /api/v1/health', () => {
  it('answers 200 {"status":"ok"} without a token, and to HEAD', async () => {
    const a = await h.api('GET', '/api/v1/health');
    expect(a.status).toBe(200);
    expect(a.body).toEqual({ status: 'ok' });
    expect(a.headers.get('content-type')).toMatch(/^application\/json/);
    const head = await h.api('HEAD', '/api/v1/health');
    expect(head.status).toBe(200);
    expect(head.text).toBe('');
  });

  it('ignores a bearer, even a bad one, and never counts it as a failed sign-in', async () => {
    // The throttle lets 2 failures through: a health check counted as one would be 429 by the fourth.
    for (let i = 0; i < 5; i++) expect((await h.api('GET', '/api/v1/health', { token: 'kw_not_a_token' })).status).toBe(200);
    expect((await h.api('GET', '/api/v1/users/me', { token: h.tokens.bob })).status).toBe(200);
  });

  it('takes GET only', async () => {
    const a = await h.api('POST', '/api/v1/health', { body: {} });
    expect(a.status).toBe(405);
    expect(a.headers.get('allow')).toBe('GET');
    expect(a.body.errors[0].code).toBe('METHOD_NOT_ALLOWED');
  });

  it('is logged when it says something new: a success after a success is not', async () => {
    const healthLines = () => h.logs.map((l) => JSON.parse(l)).filter((e) => e.path === '/api/v1/health');
    // The tests before this one asked it already (their last, a 405): this success is logged, the next ones are not.
    expect((await h.api('GET', '/api/v1/health')).status).toBe(200);
    const before = healthLines().length;
    expect(healthLines().at(-1)).toMatchObject({ method: 'GET', status: 200 });
    for (let i = 0; i < 4; i++) expect((await h.api('GET', '/api/v1/health')).status).toBe(200);
    expect(healthLines().length).toBe(before);
    // A refused one (405) is logged, and so is the next success after it.
    expect((await h.api('POST', '/api/v1/health', { body: {} })).status).toBe(405);
    expect((await h.api('GET', '/api/v1/health')).status).toBe(200);
    expect((await h.api('GET', '/api/v1/health')).status).toBe(200);
    expect(healthLines().slice(before).map((e) => [e.method, e.status])).toEqual([['POST', 405], ['GET', 200]]);
    // Other requests are logged as ever, each one.
    const lines = h.logs.length;
    for (let i = 0; i < 2; i++) await h.api('GET', '/api/v1/users/me', { token: h.tokens.bob });
    expect(h.logs.length).toBe(lines + 2);
  });

  it('tells nothing about the store', async () => {
    const a = await h.api('GET', '/api/v1/health');
    expect(a.text).not.toContain(h.dir);
    expect(a.text).not.toMatch(/json|journal|tenant/i);
  });
});

describe('GET /api/v1/health/live', () => {
  it('answers 200 {"status":"alive"} without a token, takes GET only, and is logged once while it keeps saying so', async () => {
    const liveLines = () => h.logs.map((l) => JSON.parse(l)).filter((e) => e.path === '/api/v1/health/live');
    for (let i = 0; i < 3; i++) {
      const a = await h.api('GET', '/api/v1/health/live', { token: 'kw_not_a_token' });
      expect([a.status, a.body]).toEqual([200, { status: 'alive' }]);
    }
    expect(liveLines().map((e) => [e.method, e.status])).toEqual([['GET', 200]]);
    const post = await h.api('POST', '/api/v1/health/live', { body: {} });
    expect([post.status, post.headers.get('allow')]).toEqual([405, 'GET']);
    // Not a health check's success: its own path's log is not the readiness check's.
    expect((await h.api('GET', '/api/v1/health')).status).toBe(200);
    expect(liveLines().map((e) => [e.method, e.status])).toEqual([['GET', 200], ['POST', 405]]);
  });
});
