import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, errorCode, startHarness } from './helpers.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

const create = async (token: string, body: unknown) => {
  const a = await h.api('POST', '/api/v1/api-keys', { token, body });
  expect(a.status, a.text).toBe(201);
  return a.body;
};

describe('the keys API', () => {
  it('creates a key (201, token once, Location) and never shows the token again', async () => {
    const a = await h.api('POST', '/api/v1/api-keys', { token: h.tokens.bob, body: { description: 'CI deploys', expiry: 'P7D' } });
    expect(a.status).toBe(201);
    expect(a.headers.get('location')).toBe(`/api/v1/api-keys/${a.body.id}`);
    expect(a.headers.get('cache-control')).toBe('no-store');
    expect(a.body).toMatchObject({ description: 'CI deploys', sub: 'bob', subType: 'user', status: 'active', createdByUser: 'bob' });
    // Keyward's addition beside Qlik's fields: what the asking user may do to the key.
    expect(a.body.actions).toEqual({ rename: true, delete: true, revoke: false, rotate: true });
    expect(Object.keys(a.body).sort()).toEqual(['actions', 'created', 'createdByUser', 'description', 'expiry', 'id', 'lastUpdated', 'lastUsedFrom', 'status', 'sub', 'subType', 'tenantId', 'token']);
    expect(Date.parse(a.body.expiry) - Date.parse(a.body.created)).toBe(7 * 86_400_000);
    const got = await h.api('GET', `/api/v1/api-keys/${a.body.id}`, { token: h.tokens.bob });
    expect(got.status).toBe(200);
    expect(got.body.token).toBeUndefined();
    expect(got.text).not.toContain(a.body.token);
    const list = await h.api('GET', '/api/v1/api-keys?limit=100', { token: h.tokens.alice });
    expect(list.text).not.toContain(a.body.token);
    // The new token works at once.
    expect((await h.api('GET', '/api/v1/users/me', { token: a.body.token })).body.name).toBe('bob');
  });

  it('lets nobody, an admin included, create a key for someone else (NOT_KEY_OWNER); sub may name the caller', async () => {
    for (const token of [h.tokens.alice, h.tokens.bob]) {
      const refused = await h.api('POST', '/api/v1/api-keys', { token, body: { description: 'for carol', sub: 'carol' } });
      expect([refused.status, errorCode(refused)]).toEqual([403, 'NOT_KEY_OWNER']);
    }
    const own = await create(h.tokens.bob, { description: 'mine', sub: 'bob' });
    expect(own).toMatchObject({ sub: 'bob', createdByUser: 'bob' });
  });

  it('shows an admin every key and anyone else only their own; filters by status, sub, createdByUser and search', async () => {
    const carolKey = await create(h.tokens.carol, { description: 'carol search-me key' });
    const adminView = await h.api('GET', '/api/v1/api-keys?limit=100', { token: h.tokens.alice });
    expect(new Set(adminView.body.data.map((k: { sub: string }) => k.sub))).toEqual(new Set(['alice', 'bob', 'carol']));
    const bobView = await h.api('GET', '/api/v1/api-keys?limit=100', { token: h.tokens.bob });
    expect(bobView.body.data.length).toBeGreaterThan(0);
    expect(bobView.body.data.every((k: { sub: string }) => k.sub === 'bob')).toBe(true);
    // A non-admin asking for someone else's keys still sees only their own: none.
    expect((await h.api('GET', '/api/v1/api-keys?sub=carol', { token: h.tokens.bob })).body.data).toEqual([]);

    const bySub = await h.api('GET', '/api/v1/api-keys?sub=carol&limit=100', { token: h.tokens.alice });
    expect(bySub.body.data.map((k: { id: string }) => k.id)).toContain(carolKey.id);
    expect(bySub.body.data.every((k: { sub: string }) => k.sub === 'carol')).toBe(true);
    const byCreator = await h.api('GET', '/api/v1/api-keys?createdByUser=alice&limit=100', { token: h.tokens.alice });
    expect(byCreator.body.data.every((k: { createdByUser: string }) => k.createdByUser === 'alice')).toBe(true);
    const search = await h.api('GET', '/api/v1/api-keys?search=SEARCH-ME', { token: h.tokens.alice });
    expect(search.body.data.map((k: { id: string }) => k.id)).toEqual([carolKey.id]);

    await h.api('POST', `/api/v1/api-keys/${carolKey.id}/revoke`, { token: h.tokens.alice });
    const revoked = await h.api('GET', '/api/v1/api-keys?status=revoked&limit=100', { token: h.tokens.alice });
    expect(revoked.body.data.map((k: { id: string }) => k.id)).toContain(carolKey.id);
    expect(revoked.body.data.every((k: { status: string }) => k.status === 'revoked')).toBe(true);
    const active = await h.api('GET', '/api/v1/api-keys?status=active&limit=100', { token: h.tokens.alice });
    expect(active.body.data.map((k: { id: string }) => k.id)).not.toContain(carolKey.id);
  });

  it('sorts by every field both ways, newest first by default', async () => {
    const all = (await h.api('GET', '/api/v1/api-keys?limit=100', { token: h.tokens.alice })).body.data as { created: string; description: string }[];
    const created = all.map((k) => k.created);
    expect(created).toEqual([...created].sort().reverse());
    const asc = (await h.api('GET', '/api/v1/api-keys?limit=100&sort=%2Bdescription', { token: h.tokens.alice })).body.data as { description: string }[];
    const names = asc.map((k) => k.description.toLowerCase());
    expect(names).toEqual([...names].sort());
    const desc = (await h.api('GET', '/api/v1/api-keys?limit=100&sort=-description', { token: h.tokens.alice })).body.data as { description: string }[];
    expect(desc.map((k) => k.description.toLowerCase())).toEqual([...names].reverse());
    for (const field of ['status', 'sub', 'createdByUser', 'created']) {
      expect((await h.api('GET', `/api/v1/api-keys?sort=-${field}`, { token: h.tokens.alice })).status).toBe(200);
    }
    // Keyward's own: by expiry, soonest first with +.
    const byExpiry = (await h.api('GET', '/api/v1/api-keys?limit=100&sort=%2Bexpiry', { token: h.tokens.alice })).body.data as { expiry: string }[];
    expect(byExpiry.map((k) => k.expiry)).toEqual(byExpiry.map((k) => k.expiry).sort());
    // And by last use, the most recent first with -: keys never used come last.
    await new Promise((r) => setTimeout(r, 200)); // the server flushes usage every 50 ms here
    const byUse = (await h.api('GET', '/api/v1/api-keys?limit=100&sort=-lastUsed', { token: h.tokens.alice })).body.data as { lastUsed: string | null }[];
    const used = byUse.map((k) => k.lastUsed ?? '');
    expect(used[0]).not.toBe('');
    expect(used).toEqual([...used].sort().reverse());
    const bad = await h.api('GET', '/api/v1/api-keys?sort=colour', { token: h.tokens.alice });
    expect([bad.status, errorCode(bad)]).toEqual([400, 'INVALID_INPUT']);
  });

  it('pages with links: next and prev carry the cursor, and following them walks the list exactly once', async () => {
    for (let i = 0; i < 7; i++) await create(h.tokens.carol, { description: `page key ${i}` });
    const token = h.tokens.carol;
    const expected = (await h.api('GET', '/api/v1/api-keys?limit=100&sort=%2Bdescription', { token })).body.data.map((k: { id: string }) => k.id);
    expect(expected.length).toBeGreaterThanOrEqual(8);

    const first = await h.api('GET', '/api/v1/api-keys?limit=3&sort=%2Bdescription', { token });
    expect(first.body.links.self.href).toBe(`${h.url}/api/v1/api-keys?limit=3&sort=%2Bdescription`);
    expect(first.body.links.prev).toBeUndefined();
    expect(first.body.meta.total).toBe(expected.length);
    const seen: string[] = [];
    const pages: { data: { id: string }[]; links: { self: { href: string }; next?: { href: string }; prev?: { href: string } } }[] = [];
    let page = first.body;
    for (;;) {
      pages.push(page);
      seen.push(...page.data.map((k: { id: string }) => k.id));
      if (!page.links.next) break;
      const next = new URL(page.links.next.href);
      expect(next.searchParams.get('startingAfter')).toBe(page.data[page.data.length - 1].id);
      expect(next.searchParams.get('limit')).toBe('3');
      page = (await h.api('GET', next.pathname + next.search, { token })).body;
    }
    expect(seen).toEqual(expected);
    expect(pages.length).toBe(Math.ceil(expected.length / 3));

    // prev from the second page leads back to the first.
    const prev = new URL(pages[1].links.prev!.href);
    expect(prev.searchParams.get('endingBefore')).toBe(pages[1].data[0].id);
    const back = await h.api('GET', prev.pathname + prev.search, { token });
    expect(back.body.data.map((k: { id: string }) => k.id)).toEqual(expected.slice(0, 3));
    expect(back.body.links.prev).toBeUndefined();
    expect(back.body.links.next).toBeDefined();

    // offset (Keyward's windows) and cursor refusals.
    const offset = await h.api('GET', '/api/v1/api-keys?limit=2&offset=2&sort=%2Bdescription', { token });
    expect(offset.body.data.map((k: { id: string }) => k.id)).toEqual(expected.slice(2, 4));
    const both = await h.api('GET', `/api/v1/api-keys?startingAfter=${expected[0]}&endingBefore=${expected[2]}`, { token });
    expect([both.status, errorCode(both)]).toEqual([400, 'INVALID_INPUT']);
    const stranger = await h.api('GET', '/api/v1/api-keys?startingAfter=ffffffffffffffffffffffff', { token });
    expect([stranger.status, errorCode(stranger)]).toEqual([400, 'INVALID_INPUT']);
  });

  it('takes a limit of 1..100 and each query parameter once', async () => {
    for (const limit of ['0', '101', 'x', '2.5', '']) {
      const a = await h.api('GET', `/api/v1/api-keys?limit=${limit}`, { token: h.tokens.alice });
      expect([limit, a.status, errorCode(a)]).toEqual([limit, 400, 'INVALID_INPUT']);
    }
    expect((await h.api('GET', '/api/v1/api-keys?limit=100', { token: h.tokens.alice })).status).toBe(200);
    expect((await h.api('GET', '/api/v1/api-keys?limit=1', { token: h.tokens.alice })).body.data.length).toBe(1);
    const twice = await h.api('GET', '/api/v1/api-keys?status=active&status=revoked', { token: h.tokens.alice });
    expect([twice.status, errorCode(twice)]).toEqual([400, 'INVALID_INPUT']);
    const status = await h.api('GET', '/api/v1/api-keys?status=deleted', { token: h.tokens.alice });
    expect([status.status, errorCode(status)]).toEqual([400, 'INVALID_INPUT']);
    const offset = await h.api('GET', '/api/v1/api-keys?offset=-1', { token: h.tokens.alice });
    expect([offset.status, errorCode(offset)]).toEqual([400, 'INVALID_INPUT']);
  });

  it('renames with JSON Patch: 204, or the key with Prefer: return=representation; only the owner may', async () => {
    const k = await create(h.tokens.bob, { description: 'old name' });
    const patch = (value: unknown) => [{ op: 'replace', path: '/description', value }];
    const a = await h.api('PATCH', `/api/v1/api-keys/${k.id}`, { token: h.tokens.bob, body: patch('new name'), headers: { 'content-type': 'application/json-patch+json' } });
    expect(a.status).toBe(204);
    expect(a.text).toBe('');
    expect((await h.api('GET', `/api/v1/api-keys/${k.id}`, { token: h.tokens.bob })).body.description).toBe('new name');
    const rep = await h.api('PATCH', `/api/v1/api-keys/${k.id}`, { token: h.tokens.bob, body: patch('newer'), headers: { prefer: 'return=representation' } });
    expect(rep.status).toBe(200);
    expect(rep.body).toMatchObject({ id: k.id, description: 'newer' });
    expect(rep.headers.get('preference-applied')).toBe('return=representation');

    const byAdmin = await h.api('PATCH', `/api/v1/api-keys/${k.id}`, { token: h.tokens.alice, body: patch('admin was here') });
    expect([byAdmin.status, errorCode(byAdmin)]).toEqual([403, 'NOT_KEY_OWNER']);
    const byStranger = await h.api('PATCH', `/api/v1/api-keys/${k.id}`, { token: h.tokens.carol, body: patch('carol was here') });
    expect([byStranger.status, errorCode(byStranger)]).toEqual([404, 'KEY_NOT_FOUND']);
    for (const body of [patch(''), patch(42), patch('x'.repeat(300)), patch('bell\u0007'), [{ op: 'replace', path: '/sub', value: 'carol' }], []]) {
      const bad = await h.api('PATCH', `/api/v1/api-keys/${k.id}`, { token: h.tokens.bob, body });
      expect([JSON.stringify(body).slice(0, 60), bad.status, errorCode(bad)]).toEqual([JSON.stringify(body).slice(0, 60), 400, 'INVALID_INPUT']);
    }
    expect((await h.api('GET', `/api/v1/api-keys/${k.id}`, { token: h.tokens.bob })).body.description).toBe('newer');
  });

  it('DELETE: the owner deletes, an admin revokes somebody else\'s key, anyone else is told there is no such key', async () => {
    const own = await create(h.tokens.bob, { description: 'bob deletes this' });
    expect((await h.api('DELETE', `/api/v1/api-keys/${own.id}`, { token: h.tokens.bob })).status).toBe(204);
    const gone = await h.api('GET', `/api/v1/api-keys/${own.id}`, { token: h.tokens.alice });
    expect([gone.status, errorCode(gone)]).toEqual([404, 'KEY_NOT_FOUND']);

    const other = await create(h.tokens.bob, { description: 'alice revokes this' });
    expect((await h.api('DELETE', `/api/v1/api-keys/${other.id}`, { token: h.tokens.alice })).status).toBe(204);
    const revoked = await h.api('GET', `/api/v1/api-keys/${other.id}`, { token: h.tokens.bob });
    expect(revoked.body.status).toBe('revoked');
    const again = await h.api('DELETE', `/api/v1/api-keys/${other.id}`, { token: h.tokens.alice });
    expect([again.status, errorCode(again)]).toEqual([409, 'KEY_NOT_ACTIVE']);
    // The owner can still delete their revoked key.
    expect((await h.api('DELETE', `/api/v1/api-keys/${other.id}`, { token: h.tokens.bob })).status).toBe(204);

    const aliceOwn = await create(h.tokens.alice, { description: 'alice deletes her own' });
    const byStranger = await h.api('DELETE', `/api/v1/api-keys/${aliceOwn.id}`, { token: h.tokens.bob });
    expect([byStranger.status, errorCode(byStranger)]).toEqual([404, 'KEY_NOT_FOUND']);
    expect((await h.api('DELETE', `/api/v1/api-keys/${aliceOwn.id}`, { token: h.tokens.alice })).status).toBe(204);

    // mode=delete never revokes: an admin is told the key is not hers.
    const strict = await create(h.tokens.bob, { description: 'strict delete' });
    const notOwner = await h.api('DELETE', `/api/v1/api-keys/${strict.id}?mode=delete`, { token: h.tokens.alice });
    expect([notOwner.status, errorCode(notOwner)]).toEqual([403, 'NOT_KEY_OWNER']);
    expect((await h.api('GET', `/api/v1/api-keys/${strict.id}`, { token: h.tokens.bob })).body.status).toBe('active');
    const mode = await h.api('DELETE', `/api/v1/api-keys/${strict.id}?mode=revoke`, { token: h.tokens.alice });
    expect([mode.status, errorCode(mode)]).toEqual([400, 'INVALID_INPUT']);
    expect((await h.api('DELETE', `/api/v1/api-keys/${strict.id}?mode=delete`, { token: h.tokens.bob })).status).toBe(204);

    const badId = await h.api('DELETE', '/api/v1/api-keys/not-a-key', { token: h.tokens.bob });
    expect([badId.status, errorCode(badId)]).toEqual([404, 'KEY_NOT_FOUND']);
  });

  it('revokes one key, or many in one call reporting what it left alone', async () => {
    const one = await create(h.tokens.carol, { description: 'revoke me' });
    const r = await h.api('POST', `/api/v1/api-keys/${one.id}/revoke`, { token: h.tokens.alice });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ id: one.id, status: 'revoked' });
    const notAdmin = await h.api('POST', `/api/v1/api-keys/${one.id}/revoke`, { token: h.tokens.carol });
    expect([notAdmin.status, errorCode(notAdmin)]).toEqual([403, 'ADMIN_ROLE_REQUIRED']);

    const two = await create(h.tokens.carol, { description: 'bulk 1' });
    const three = await create(h.tokens.bob, { description: 'bulk 2' });
    const bulk = await h.api('POST', '/api/v1/api-keys/revoke', { token: h.tokens.alice, body: { ids: [two.id, three.id, one.id, 'ffffffffffffffffffffffff', 'nonsense'] } });
    expect(bulk.status).toBe(200);
    expect(bulk.body.revoked.map((k: { id: string }) => k.id).sort()).toEqual([two.id, three.id].sort());
    expect(bulk.body.skipped.map((s: { id: string; code: string }) => [s.id, s.code])).toEqual([
      [one.id, 'KEY_NOT_ACTIVE'],
      ['ffffffffffffffffffffffff', 'KEY_NOT_FOUND'],
      ['nonsense', 'KEY_NOT_FOUND'],
    ]);
    for (const body of [{}, { ids: 'x' }, { ids: [] }, [], 'ids']) {
      const bad = await h.api('POST', '/api/v1/api-keys/revoke', { token: h.tokens.alice, body });
      expect([bad.status, errorCode(bad)]).toEqual([400, 'INVALID_INPUT']);
    }
    const byDev = await h.api('POST', '/api/v1/api-keys/revoke', { token: h.tokens.bob, body: { ids: [two.id] } });
    expect([byDev.status, errorCode(byDev)]).toEqual([403, 'ADMIN_ROLE_REQUIRED']);
  });

  it('deletes all of the caller\'s keys and nobody else\'s', async () => {
    const h2 = await startHarness();
    try {
      for (let i = 0; i < 3; i++) await h2.api('POST', '/api/v1/api-keys', { token: h2.tokens.bob, body: { description: `bob ${i}` } });
      const r = await h2.api('POST', '/api/v1/api-keys/delete-mine', { token: h2.tokens.bob });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ deleted: 4 });
      // Bob's own token went with his keys.
      expect((await h2.api('GET', '/api/v1/users/me', { token: h2.tokens.bob })).status).toBe(401);
      const left = await h2.api('GET', '/api/v1/api-keys?limit=100', { token: h2.tokens.alice });
      expect(left.body.data.map((k: { sub: string }) => k.sub).sort()).toEqual(['alice', 'carol']);
    } finally {
      await h2.close();
    }
  });

  it('verifies a token for another service: valid with its key, or the reason it is not', async () => {
    const k = await create(h.tokens.bob, { description: 'to verify' });
    const ok = await h.api('POST', '/api/v1/api-keys/verify', { token: h.tokens.carol, body: { token: k.token } });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ valid: true, key: { id: k.id, sub: 'bob', status: 'active' } });
    expect(ok.body.key.token).toBeUndefined();

    const malformed = await h.api('POST', '/api/v1/api-keys/verify', { token: h.tokens.carol, body: { token: 'hello' } });
    expect(malformed.body).toEqual({ valid: false, code: 'UNAUTHENTICATED', reason: 'malformed' });
    const wrongSecret = k.token.slice(0, 30) + (k.token[30] === 'a' ? 'b' : 'a') + k.token.slice(31);
    expect((await h.api('POST', '/api/v1/api-keys/verify', { token: h.tokens.carol, body: { token: wrongSecret } })).body.valid).toBe(false);
    await h.api('POST', `/api/v1/api-keys/${k.id}/revoke`, { token: h.tokens.alice });
    const revoked = await h.api('POST', '/api/v1/api-keys/verify', { token: h.tokens.carol, body: { token: k.token } });
    expect(revoked.body).toEqual({ valid: false, code: 'UNAUTHENTICATED', reason: 'revoked' });

    // The caller must itself hold a valid token.
    const anonymous = await h.api('POST', '/api/v1/api-keys/verify', { body: { token: h.tokens.bob } });
    expect([anonymous.status, errorCode(anonymous)]).toEqual([401, 'UNAUTHENTICATED']);
    for (const body of [{}, { token: 42 }, [h.tokens.bob]]) {
      const bad = await h.api('POST', '/api/v1/api-keys/verify', { token: h.tokens.carol, body });
      expect([bad.status, errorCode(bad)]).toEqual([400, 'INVALID_INPUT']);
    }
  });

  it('summarises usage per key, most used first, for admins', async () => {
    const k = await create(h.tokens.carol, { description: 'busy' });
    for (let i = 0; i < 25; i++) expect((await h.api('GET', '/api/v1/users/me', { token: k.token })).status).toBe(200);
    const usage = await h.api('GET', '/api/v1/api-keys/usage?since=1h', { token: h.tokens.alice });
    expect(usage.status).toBe(200);
    const row = usage.body.data.find((r: { keyId: string }) => r.keyId === k.id);
    expect(row).toMatchObject({ keyId: k.id, description: 'busy', sub: 'carol', status: 'active', uses: 25, excessive: false });
    const uses = usage.body.data.map((r: { uses: number }) => r.uses);
    expect(uses).toEqual([...uses].sort((a: number, b: number) => b - a));
    expect((await h.api('GET', `/api/v1/api-keys/${k.id}`, { token: h.tokens.carol })).body.lastUsed).toBeDefined();
    const notAdmin = await h.api('GET', '/api/v1/api-keys/usage', { token: h.tokens.carol });
    expect([notAdmin.status, errorCode(notAdmin)]).toEqual([403, 'ADMIN_ROLE_REQUIRED']);
    const badSince = await h.api('GET', '/api/v1/api-keys/usage?since=yesterday', { token: h.tokens.alice });
    expect([badSince.status, errorCode(badSince)]).toEqual([400, 'INVALID_INPUT']);
  });
});
