import { newKeyId, newToken } from '@keyward/core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Harness, errorCode, startHarness } from './helpers.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ authThrottle: { burst: 1000, perMinute: 1000 } });
});
afterAll(() => h.close());

const me = (token?: string, headers?: Record<string, string>) => h.api('GET', '/api/v1/users/me', { token, headers });

async function unauthenticated(p: Promise<Awaited<ReturnType<typeof me>>>, detail: RegExp) {
  const a = await p;
  expect([a.status, errorCode(a)]).toEqual([401, 'UNAUTHENTICATED']);
  expect(a.body.errors[0].detail).toMatch(detail);
  expect(a.headers.get('www-authenticate')).toMatch(/^Bearer realm="keyward"/);
}

describe('bearer authentication', () => {
  it('refuses a missing, malformed, unknown or wrong token with 401 UNAUTHENTICATED', async () => {
    await unauthenticated(me(), /Authorization: Bearer/);
    await unauthenticated(me(undefined, { authorization: `Basic ${Buffer.from('alice:pw').toString('base64')}` }), /not a Keyward token/);
    await unauthenticated(me(undefined, { authorization: 'Bearer' }), /not a Keyward token/);
    await unauthenticated(me('kw_hello'), /not a Keyward token/);
    // Right shape and checksum, but no such key.
    await unauthenticated(me(newToken(newKeyId())), /not known/);
    // The right key id with another secret.
    const [, id] = /^kw_([0-9a-f]{24})_/.exec(h.tokens.bob)!;
    await unauthenticated(me(newToken(id)), /not known/);
    // One character off fails the checksum, without a lookup.
    const typo = h.tokens.bob.slice(0, -1) + (h.tokens.bob.endsWith('0') ? '1' : '0');
    await unauthenticated(me(typo), /not a Keyward token/);
    // The scheme is case-insensitive.
    expect((await me(undefined, { authorization: `bearer ${h.tokens.bob}` })).status).toBe(200);
  });

  it('refuses a revoked token on its very next request, and a deleted one', async () => {
    const k = (await h.api('POST', '/api/v1/api-keys', { token: h.tokens.carol, body: { description: 'short-lived' } })).body;
    expect((await me(k.token)).status).toBe(200);
    expect((await h.api('POST', `/api/v1/api-keys/${k.id}/revoke`, { token: h.tokens.alice })).status).toBe(200);
    await unauthenticated(me(k.token), /revoked/);

    const d = (await h.api('POST', '/api/v1/api-keys', { token: h.tokens.carol, body: { description: 'deleted soon' } })).body;
    expect((await me(d.token)).status).toBe(200);
    expect((await h.api('DELETE', `/api/v1/api-keys/${d.id}`, { token: h.tokens.carol })).status).toBe(204);
    await unauthenticated(me(d.token), /not known/);
  });

  it('refuses an expired token', async () => {
    const k = (await h.api('POST', '/api/v1/api-keys', { token: h.tokens.carol, body: { description: 'one second', expiry: 'PT1S' } })).body;
    await vi.waitFor(() => unauthenticated(me(k.token), /expired/), { timeout: 10_000, interval: 200 });
  });

  it('counts every use and failure: used events, auth-failed events with reasons, and last used', async () => {
    const k = (await h.api('POST', '/api/v1/api-keys', { token: h.tokens.bob, body: { description: 'counted' } })).body;
    for (let i = 0; i < 5; i++) await me(k.token);
    const wrong = newToken(k.id);
    for (let i = 0; i < 3; i++) await me(wrong);
    await vi.waitFor(
      async () => {
        const used = await h.api('GET', `/api/v1/audits?eventType=api-key.used&keyId=${k.id}&limit=100`, { token: h.tokens.alice });
        expect(used.body.data.reduce((n: number, e: { data: { uses: number } }) => n + e.data.uses, 0)).toBe(5);
        const failed = await h.api('GET', `/api/v1/audits?eventType=api-key.auth-failed&keyId=${k.id}`, { token: h.tokens.alice });
        expect(failed.body.data.reduce((n: number, e: { data: { count: number } }) => n + e.data.count, 0)).toBe(3);
        // They may fall into more than one flush: add the reasons up.
        const reasons: Record<string, number> = {};
        for (const e of failed.body.data) for (const [r, n] of Object.entries(e.data.reasons as Record<string, number>)) reasons[r] = (reasons[r] ?? 0) + n;
        expect(reasons).toEqual({ unknown: 3 });
      },
      { timeout: 10_000, interval: 100 },
    );
    const key = (await h.api('GET', `/api/v1/api-keys/${k.id}`, { token: h.tokens.bob })).body;
    expect(Date.parse(key.lastUsed)).toBeGreaterThanOrEqual(Date.parse(key.created));
    // Failures without a key (malformed, unknown ids) are recorded too.
    await me('kw_garbage');
    await vi.waitFor(
      async () => {
        const anon = await h.api('GET', '/api/v1/audits?eventType=api-key.auth-failed&userId=anonymous&limit=100', { token: h.tokens.alice });
        expect(anon.body.data.some((e: { data: { reasons: Record<string, number> } }) => (e.data.reasons.malformed ?? 0) > 0)).toBe(true);
      },
      { timeout: 10_000, interval: 100 },
    );
  });

  it('never writes a token to the store, the event log or the request log', async () => {
    const k = (await h.api('POST', '/api/v1/api-keys', { token: h.tokens.bob, body: { description: 'secret' } })).body;
    await me(k.token);
    await h.api('POST', '/api/v1/api-keys/verify', { token: h.tokens.carol, body: { token: k.token } });
    await h.api('GET', `/api/v1/api-keys/${encodeURIComponent(k.token)}?token=${k.token}`, { token: h.tokens.bob });
    await vi.waitFor(() => expect(h.storeText()).toContain(k.id), { timeout: 10_000, interval: 100 });
    const secrets = [k.token, h.tokens.alice, h.tokens.bob, h.tokens.carol].map((t) => t.slice(28));
    const places = { store: h.storeText(), log: h.logs.join('\n') };
    for (const [where, text] of Object.entries(places)) {
      for (const s of secrets) expect(text.includes(s), `${where} holds a token`).toBe(false);
    }
    expect(h.logs.some((l) => l.includes('"path":"/api/v1/api-keys/[token]"'))).toBe(true);
  });
});

describe('the slow-down for repeated failures', () => {
  it('answers a flood of bad tokens from one address with 429 and Retry-After, and nothing worse', async () => {
    const h2 = await startHarness();
    try {
      const flood = await Promise.all(Array.from({ length: 60 }, (_, i) => h2.api('GET', '/api/v1/api-keys', { token: i % 2 ? `kw_nope${i}` : newToken(newKeyId()) })));
      const statuses = flood.map((a) => a.status);
      expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
      // 20 failures pass as 401 in a burst; the rest of the flood is slowed down.
      expect(statuses.filter((s) => s === 401).length).toBeGreaterThanOrEqual(20);
      expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(30);
      const limited = flood.find((a) => a.status === 429)!;
      expect(errorCode(limited)).toBe('TOO_MANY_REQUESTS');
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(limited.body.errors[0].detail).toMatch(/try again in \d+ s/);
      // A good token from the same address is still served: the slow-down is for failures.
      expect((await h2.api('GET', '/api/v1/users/me', { token: h2.tokens.alice })).status).toBe(200);
      expect((await h2.api('GET', '/api/v1/users/me', { token: 'kw_still_bad' })).status).toBe(429);
      expect((await h2.api('GET', '/api/v1/users/me')).status).toBe(429);
    } finally {
      await h2.close();
    }
  });

  it('lets an address fail again once its budget has refilled', async () => {
    const h2 = await startHarness({ authThrottle: { burst: 2, perMinute: 600 } });
    try {
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await h2.api('GET', '/api/v1/users/me', { token: 'kw_bad' })).status);
      expect(statuses.slice(0, 2)).toEqual([401, 401]);
      // 600 a minute is one every 100 ms: after a pause the address is heard (401) again.
      await vi.waitFor(async () => expect((await h2.api('GET', '/api/v1/users/me', { token: 'kw_bad' })).status).toBe(401), { timeout: 10_000, interval: 150 });
    } finally {
      await h2.close();
    }
  });
});
