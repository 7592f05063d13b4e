// The engine flags a key whose uses in one minute exceed both the tenant
// threshold and ten times its own daily average; the server's usage flush is
// what writes the flag, so this runs through a real server and its interval.

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Harness, startHarness } from './helpers.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ usageFlushMs: 50 });
});
afterAll(() => h.close());

const flagged = async () =>
  (await h.api('GET', '/api/v1/audits?eventType=api-key.excessive-use&limit=100', { token: h.tokens.alice })).body.data as { keyId: string; data: Record<string, number> }[];

describe('excessive use', () => {
  it('is flagged once per key per hour, shown in events and usage', async () => {
    const tenant = (await h.api('GET', '/api/v1/users/me', { token: h.tokens.alice })).body.tenantId;
    await h.api('PATCH', `/api/v1/api-keys/configs/${tenant}`, { token: h.tokens.alice, body: [{ op: 'replace', path: '/excessive_use_per_minute', value: 5 }] });
    const busy = (await h.api('POST', '/api/v1/api-keys', { token: h.tokens.bob, body: { description: 'busy bot' } })).body;
    const calm = (await h.api('POST', '/api/v1/api-keys', { token: h.tokens.carol, body: { description: 'calm' } })).body;

    // 30 uses cross the threshold of 5 in whichever minute they land, even split by a minute boundary.
    for (let i = 0; i < 30; i++) expect((await h.api('GET', '/api/v1/users/me', { token: busy.token })).status).toBe(200);
    for (let i = 0; i < 3; i++) await h.api('GET', '/api/v1/users/me', { token: calm.token });

    await vi.waitFor(async () => expect((await flagged()).map((e) => e.keyId)).toContain(busy.id), { timeout: 10_000, interval: 100 });
    const [event] = (await flagged()).filter((e) => e.keyId === busy.id);
    expect(event.data.threshold).toBe(5);
    expect(event.data.usesInMinute).toBeGreaterThan(5);

    const usage = (await h.api('GET', '/api/v1/api-keys/usage', { token: h.tokens.alice })).body.data as { keyId: string; uses: number; excessive: boolean }[];
    expect(usage.find((r) => r.keyId === busy.id)).toMatchObject({ uses: 30, excessive: true });
    expect(usage.find((r) => r.keyId === calm.id)).toMatchObject({ uses: 3, excessive: false });

    // More of the same within the hour is not flagged again.
    for (let i = 0; i < 30; i++) await h.api('GET', '/api/v1/users/me', { token: busy.token });
    await vi.waitFor(
      async () => {
        const rows = (await h.api('GET', '/api/v1/api-keys/usage', { token: h.tokens.alice })).body.data as { keyId: string; uses: number }[];
        expect(rows.find((r) => r.keyId === busy.id)?.uses).toBe(60);
        // Flushed, not just counted in memory: the used events add up to 60.
        const used = (await h.api('GET', `/api/v1/audits?eventType=api-key.used&keyId=${busy.id}&limit=100`, { token: h.tokens.alice })).body.data as { data: { uses: number } }[];
        expect(used.reduce((n, e) => n + e.data.uses, 0)).toBe(60);
      },
      { timeout: 10_000, interval: 100 },
    );
    expect((await flagged()).filter((e) => e.keyId === busy.id).length).toBe(1);
    expect((await flagged()).some((e) => e.keyId === calm.id)).toBe(false);
  });
});
