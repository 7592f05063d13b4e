// POST /api/v1/api-keys/{id}/rotate: a new key and token, the old token kept
// for the overlap, the two keys naming each other; only the owner rotates.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, errorCode, startHarness } from './helpers.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ usageFlushMs: 50, authThrottle: { burst: 1000, perMinute: 1000 } });
});
afterAll(() => h.close());

const me = (token: string) => h.api('GET', '/api/v1/users/me', { token });
const create = async (owner: 'alice' | 'bob', description: string) => (await h.api('POST', '/api/v1/api-keys', { token: h.tokens[owner], body: { description } })).body;

describe('rotating a key over HTTP', () => {
  it('keeps the old token for the default hour, and names both keys', async () => {
    const a = await create('bob', 'CI deploy');
    const started = Date.now();
    const r = await h.api('POST', `/api/v1/api-keys/${a.id}/rotate`, { token: h.tokens.bob });
    expect(r.status, r.text).toBe(201);
    expect(r.headers.get('cache-control')).toBe('no-store');
    const b = r.body;
    expect(b).toMatchObject({ description: 'CI deploy', sub: 'bob', status: 'active', rotatedFrom: a.id });
    expect(b.token).toMatch(/^kw_/);
    const old = (await h.api('GET', `/api/v1/api-keys/${a.id}`, { token: h.tokens.bob })).body;
    expect(old).toMatchObject({ status: 'active', rotatedTo: b.id });
    expect(Math.abs(Date.parse(old.expiry) - (started + 3_600_000))).toBeLessThan(60_000);
    expect((await me(a.token)).status).toBe(200);
    expect((await me(b.token)).status).toBe(200);
    const events = (await h.api('GET', `/api/v1/audits?keyId=${a.id}`, { token: h.tokens.alice })).body.data;
    expect(events.find((e: { eventType: string }) => e.eventType === 'api-key.rotated')).toMatchObject({ eventType: 'api-key.rotated', userId: 'bob', data: { rotatedTo: b.id, oldExpiry: old.expiry } });
    expect(JSON.stringify(events)).not.toContain(b.token.slice(28));
  });

  it('ends the old token at once with PT0S; its reuse is refused and recorded', async () => {
    const a = await create('bob', 'to be replaced');
    const r = await h.api('POST', `/api/v1/api-keys/${a.id}/rotate`, { token: h.tokens.bob, body: { overlap: 'PT0S' } });
    expect(r.status).toBe(201);
    const refused = await me(a.token);
    expect([refused.status, refused.body.errors[0].detail]).toEqual([401, expect.stringMatching(/expired/)]);
    expect((await me(r.body.token)).status).toBe(200);
    await expect
      .poll(async () => (await h.api('GET', `/api/v1/audits?keyId=${a.id}&eventType=api-key.reused-after-rotation`, { token: h.tokens.alice })).body.data.length, { timeout: 5000 })
      .toBe(1);
  });

  it('lets only the owner rotate, only an active key, with a valid overlap', async () => {
    const a = await create('bob', 'bob only');
    const byAdmin = await h.api('POST', `/api/v1/api-keys/${a.id}/rotate`, { token: h.tokens.alice });
    expect([byAdmin.status, errorCode(byAdmin)]).toEqual([403, 'NOT_KEY_OWNER']);
    const byOther = await h.api('POST', `/api/v1/api-keys/${a.id}/rotate`, { token: h.tokens.carol });
    expect([byOther.status, errorCode(byOther)]).toEqual([404, 'KEY_NOT_FOUND']);
    for (const overlap of ['soon', '-PT1H', 5]) {
      const bad = await h.api('POST', `/api/v1/api-keys/${a.id}/rotate`, { token: h.tokens.bob, body: { overlap } });
      expect([bad.status, errorCode(bad)], String(overlap)).toEqual([400, 'INVALID_INPUT']);
    }
    await h.api('POST', `/api/v1/api-keys/${a.id}/revoke`, { token: h.tokens.alice });
    const revoked = await h.api('POST', `/api/v1/api-keys/${a.id}/rotate`, { token: h.tokens.bob });
    expect([revoked.status, errorCode(revoked)]).toEqual([409, 'KEY_NOT_ACTIVE']);
    const twice = await create('bob', 'twice');
    await h.api('POST', `/api/v1/api-keys/${twice.id}/rotate`, { token: h.tokens.bob });
    // A rotated key is still active during its overlap, but it has a successor already.
    const again = await h.api('POST', `/api/v1/api-keys/${twice.id}/rotate`, { token: h.tokens.bob });
    expect([again.status, errorCode(again)]).toEqual([409, 'KEY_NOT_ACTIVE']);
  });
});
