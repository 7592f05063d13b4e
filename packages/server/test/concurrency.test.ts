import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Answer, type Harness, startHarness } from './helpers.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ maxKeys: 1000 });
});
afterAll(() => h.close());

describe('concurrent clients', () => {
  it('create and revoke at once: nothing lost, nothing doubled, no 5xx', async () => {
    const PER_USER = 12;
    const answers: Answer[] = [];
    const created: string[] = [];
    const revoked: string[] = [];
    const developers = ['alice', 'bob', 'carol'] as const;
    // Each developer creates keys one after another, all three at once; the admin
    // revokes every key the moment its creation is answered.
    const revocations: Promise<void>[] = [];
    await Promise.all(
      developers.map(async (who) => {
        for (let i = 0; i < PER_USER; i++) {
          const a = await h.api('POST', '/api/v1/api-keys', { token: h.tokens[who], body: { description: `${who} concurrent ${i}` } });
          answers.push(a);
          if (a.status !== 201) continue;
          created.push(a.body.id);
          revocations.push(
            h.api('POST', `/api/v1/api-keys/${a.body.id}/revoke`, { token: h.tokens.alice }).then((r) => {
              answers.push(r);
              if (r.status === 200) revoked.push(r.body.id);
            }),
          );
        }
      }),
    );
    await Promise.all(revocations);

    expect(answers.filter((a) => a.status >= 500)).toEqual([]);
    expect(answers.map((a) => a.status).filter((s) => s !== 200 && s !== 201)).toEqual([]);
    expect(new Set(created).size).toBe(3 * PER_USER);
    expect(new Set(revoked)).toEqual(new Set(created));

    // The store agrees: every key there, every one revoked, one event each.
    const keys = (await h.api('GET', '/api/v1/api-keys?status=revoked&limit=100', { token: h.tokens.alice })).body;
    expect(new Set(keys.data.map((k: { id: string }) => k.id))).toEqual(new Set(created));
    for (const type of ['api-key.generated', 'api-key.revoked']) {
      const events = (await h.api('GET', `/api/v1/audits?eventType=${type}&limit=100&since=1h`, { token: h.tokens.alice })).body.data;
      const ids = events.map((e: { keyId: string }) => e.keyId).filter((id: string) => created.includes(id));
      expect([type, ids.length, new Set(ids).size]).toEqual([type, created.length, created.length]);
    }
  });

  it('racing past the key limit: exactly the limit is created, the rest are refused with KEY_LIMIT_REACHED', async () => {
    const tenant = (await h.api('GET', '/api/v1/users/me', { token: h.tokens.alice })).body.tenantId;
    const active = (await h.api('GET', '/api/v1/api-keys?status=active&sub=carol', { token: h.tokens.alice })).body.meta.total;
    await h.api('PATCH', `/api/v1/api-keys/configs/${tenant}`, { token: h.tokens.alice, body: [{ op: 'replace', path: '/max_keys_per_user', value: active + 4 }] });
    const race = await Promise.all(Array.from({ length: 16 }, (_, i) => h.api('POST', '/api/v1/api-keys', { token: h.tokens.carol, body: { description: `race ${i}` } })));
    const statuses = race.map((a) => a.status).sort();
    expect(statuses.filter((s) => s === 201).length).toBe(4);
    expect(statuses.filter((s) => s === 409).length).toBe(12);
    expect(race.filter((a) => a.status === 409).every((a) => a.body.errors[0].code === 'KEY_LIMIT_REACHED')).toBe(true);
    expect((await h.api('GET', '/api/v1/api-keys?status=active&sub=carol', { token: h.tokens.alice })).body.meta.total).toBe(active + 4);
  });
});
