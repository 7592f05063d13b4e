import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, errorCode, startHarness } from './helpers.js';

let h: Harness;
let tenant: string;
beforeAll(async () => {
  h = await startHarness();
  tenant = (await h.api('GET', '/api/v1/users/me', { token: h.tokens.alice })).body.tenantId;
});
afterAll(() => h.close());

const replace = (path: string, value: unknown) => ({ op: 'replace', path, value });

describe('the tenant config endpoint', () => {
  it('shows the settings to anyone in the tenant under its id, and 404 under any other', async () => {
    const a = await h.api('GET', `/api/v1/api-keys/configs/${tenant}`, { token: h.tokens.bob });
    expect(a.status).toBe(200);
    expect(a.body).toEqual({ api_keys_enabled: true, max_api_key_expiry: 'P30D', max_keys_per_user: 100, excessive_use_per_minute: 600, events_retention: 'P90D' });
    const other = await h.api('GET', '/api/v1/api-keys/configs/someone-else', { token: h.tokens.alice });
    expect([other.status, errorCode(other)]).toEqual([404, 'NOT_FOUND']);
    const patchOther = await h.api('PATCH', '/api/v1/api-keys/configs/someone-else', { token: h.tokens.alice, body: [replace('/max_keys_per_user', 3)] });
    expect([patchOther.status, errorCode(patchOther)]).toEqual([404, 'NOT_FOUND']);
  });

  it('changes settings by JSON Patch (204, or 200 with Prefer), admins only, refusing bad values', async () => {
    const url = `/api/v1/api-keys/configs/${tenant}`;
    const ok = await h.api('PATCH', url, { token: h.tokens.alice, body: [replace('/max_api_key_expiry', '90d'), replace('/max_keys_per_user', 7), replace('/excessive_use_per_minute', 1200), replace('/events_retention', '30d')] });
    expect(ok.status).toBe(204);
    expect((await h.api('GET', url, { token: h.tokens.alice })).body).toEqual({ api_keys_enabled: true, max_api_key_expiry: 'P90D', max_keys_per_user: 7, excessive_use_per_minute: 1200, events_retention: 'P30D' });
    const rep = await h.api('PATCH', url, { token: h.tokens.alice, body: [replace('/max_keys_per_user', 100)], headers: { prefer: 'return=representation' } });
    expect(rep.status).toBe(200);
    expect(rep.body.max_keys_per_user).toBe(100);

    const byDev = await h.api('PATCH', url, { token: h.tokens.bob, body: [replace('/api_keys_enabled', false)] });
    expect([byDev.status, errorCode(byDev)]).toEqual([403, 'ADMIN_ROLE_REQUIRED']);
    for (const op of [
      replace('/max_keys_per_user', 1001),
      replace('/max_keys_per_user', -1),
      replace('/max_keys_per_user', '5'),
      replace('/max_api_key_expiry', 'forever'),
      replace('/max_api_key_expiry', 'P0D'),
      replace('/api_keys_enabled', 'yes'),
      replace('/excessive_use_per_minute', 0),
      replace('/events_retention', 'P0D'),
      replace('/events_retention', 90),
      replace('/tenant_name', 'x'),
    ]) {
      const bad = await h.api('PATCH', url, { token: h.tokens.alice, body: [op] });
      expect([op.path, op.value, bad.status, errorCode(bad)]).toEqual([op.path, op.value, 400, 'INVALID_SETTING']);
    }
    // One bad operation refuses the whole patch.
    const mixed = await h.api('PATCH', url, { token: h.tokens.alice, body: [replace('/max_keys_per_user', 3), replace('/max_keys_per_user', 5000)] });
    expect(mixed.status).toBe(400);
    expect((await h.api('GET', url, { token: h.tokens.alice })).body.max_keys_per_user).toBe(100);
    const events = await h.api('GET', '/api/v1/audits?eventType=api-keys-config.updated', { token: h.tokens.alice });
    expect(events.body.data[0].data.changes).toEqual({ max_keys_per_user: { from: 7, to: 100 } });
  });
});

describe('users', () => {
  it('tells anyone who they are: user, tenant, settings, and whether they can generate now', async () => {
    const a = await h.api('GET', '/api/v1/users/me', { token: h.tokens.bob });
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({ id: 'bob', name: 'bob', licence: true, roles: ['Developer'], tenantId: tenant, tenant: { id: tenant, name: 'default' }, canGenerate: { ok: true } });
    expect(a.body.settings.api_keys_enabled).toBe(true);
    // The tenant's settings are one link away, no URL to build.
    expect(a.body.links).toEqual({ config: { href: `/api/v1/api-keys/configs/${tenant}` } });
    expect((await h.api('GET', a.body.links.config.href, { token: h.tokens.bob })).status).toBe(200);
  });

  it('lets an admin list, add and change users, and nobody else', async () => {
    const list = await h.api('GET', '/api/v1/users', { token: h.tokens.alice });
    expect(list.body.data.map((u: { name: string }) => u.name)).toEqual(['alice', 'bob', 'carol']);
    const byDev = await h.api('GET', '/api/v1/users', { token: h.tokens.bob });
    expect([byDev.status, errorCode(byDev)]).toEqual([403, 'ADMIN_ROLE_REQUIRED']);

    const added = await h.api('POST', '/api/v1/users', { token: h.tokens.alice, body: { name: 'dave@example.com', licence: true } });
    expect(added.status).toBe(201);
    expect(added.body).toEqual({ id: 'dave@example.com', name: 'dave@example.com', licence: true, roles: [], actions: { setLicence: true, setRoles: true, demote: false, remove: true } });
    expect(added.headers.get('location')).toBe('/api/v1/users/dave%40example.com');
    const again = await h.api('POST', '/api/v1/users', { token: h.tokens.alice, body: { name: 'dave@example.com' } });
    expect([again.status, errorCode(again)]).toEqual([400, 'INVALID_INPUT']);
    for (const body of [{ name: '' }, { name: 'has space' }, { name: 42 }, {}, { name: 'erin', licence: 'yes' }]) {
      const bad = await h.api('POST', '/api/v1/users', { token: h.tokens.alice, body });
      expect([JSON.stringify(body), bad.status, errorCode(bad)]).toEqual([JSON.stringify(body), 400, 'INVALID_INPUT']);
    }
    const addByDev = await h.api('POST', '/api/v1/users', { token: h.tokens.bob, body: { name: 'mallory' } });
    expect([addByDev.status, errorCode(addByDev)]).toEqual([403, 'ADMIN_ROLE_REQUIRED']);

    const patched = await h.api('PATCH', '/api/v1/users/dave%40example.com', { token: h.tokens.alice, body: [replace('/developer', true), replace('/admin', true)] });
    expect(patched.status).toBe(200);
    expect(patched.body).toEqual({ id: 'dave@example.com', name: 'dave@example.com', licence: true, roles: ['TenantAdmin', 'Developer'], actions: { setLicence: true, setRoles: true, demote: true, remove: true } });
    const licence = await h.api('PATCH', '/api/v1/users/dave%40example.com', { token: h.tokens.alice, body: [replace('/licence', false)] });
    expect(licence.body.licence).toBe(false);

    const unknown = await h.api('PATCH', '/api/v1/users/nobody', { token: h.tokens.alice, body: [replace('/developer', true)] });
    expect([unknown.status, errorCode(unknown)]).toEqual([404, 'USER_NOT_FOUND']);
    const badField = await h.api('PATCH', '/api/v1/users/bob', { token: h.tokens.alice, body: [replace('/roles', ['TenantAdmin'])] });
    expect([badField.status, errorCode(badField)]).toEqual([400, 'INVALID_INPUT']);
    // A malformed patch is explained with a user's field, not a key's.
    const notAPatch = await h.api('PATCH', '/api/v1/users/bob', { token: h.tokens.alice, body: { developer: true } });
    expect([notAPatch.status, errorCode(notAPatch)]).toEqual([400, 'INVALID_INPUT']);
    expect(notAPatch.body.errors[0].detail).toContain('[{"op":"replace","path":"/developer","value":true}]');
    expect(notAPatch.body.errors[0].detail).not.toContain('/description');
    const badValue = await h.api('PATCH', '/api/v1/users/bob', { token: h.tokens.alice, body: [replace('/developer', 'on')] });
    expect([badValue.status, errorCode(badValue)]).toEqual([400, 'INVALID_INPUT']);
    const patchByDev = await h.api('PATCH', '/api/v1/users/bob', { token: h.tokens.bob, body: [replace('/admin', true)] });
    expect([patchByDev.status, errorCode(patchByDev)]).toEqual([403, 'ADMIN_ROLE_REQUIRED']);

    // The last admin cannot step down; with dave an admin too, alice can, and dave can make her one again.
    const daveKey = (await h.api('POST', '/api/v1/api-keys', { token: h.tokens.alice, body: { description: 'dave', sub: 'dave@example.com' } }));
    expect([daveKey.status, errorCode(daveKey)]).toEqual([403, 'NOT_KEY_OWNER']);
    await h.api('PATCH', '/api/v1/users/dave%40example.com', { token: h.tokens.alice, body: [replace('/admin', false)] });
    const last = await h.api('PATCH', '/api/v1/users/alice', { token: h.tokens.alice, body: [replace('/admin', false)] });
    expect([last.status, errorCode(last)]).toEqual([400, 'INVALID_INPUT']);
  });
});

describe('audits', () => {
  it('lists events newest first, filtered by type, key, user and time, for admins only', async () => {
    const k = (await h.api('POST', '/api/v1/api-keys', { token: h.tokens.carol, body: { description: 'audited' } })).body;
    await h.api('PATCH', `/api/v1/api-keys/${k.id}`, { token: h.tokens.carol, body: [replace('/description', 'audited, renamed')] });
    await h.api('POST', `/api/v1/api-keys/${k.id}/revoke`, { token: h.tokens.alice });

    const all = await h.api('GET', '/api/v1/audits?limit=100', { token: h.tokens.alice });
    expect(all.status).toBe(200);
    // Newest first is append order; usage aggregates carry the time of their last use, so only the rest are in strict time order.
    const times = all.body.data.filter((e: { eventType: string }) => !['api-key.used', 'api-key.auth-failed'].includes(e.eventType)).map((e: { eventTime: string }) => e.eventTime);
    expect(times.length).toBeGreaterThan(5);
    expect(times).toEqual([...times].sort().reverse());
    expect(Object.keys(all.body.data[0]).sort()).toEqual(expect.arrayContaining(['data', 'eventTime', 'eventType', 'id', 'userId']));

    const byKey = await h.api('GET', `/api/v1/audits?keyId=${k.id}`, { token: h.tokens.alice });
    expect(byKey.body.data.map((e: { eventType: string }) => e.eventType)).toEqual(['api-key.revoked', 'api-key.renamed', 'api-key.generated']);
    const byType = await h.api('GET', '/api/v1/audits?eventType=api-key.renamed', { token: h.tokens.alice });
    expect(byType.body.data.every((e: { eventType: string }) => e.eventType === 'api-key.renamed')).toBe(true);
    const byUser = await h.api('GET', `/api/v1/audits?userId=carol&keyId=${k.id}`, { token: h.tokens.alice });
    expect(byUser.body.data.map((e: { eventType: string }) => e.eventType)).toEqual(['api-key.renamed', 'api-key.generated']);
    const generated = byKey.body.data[2].eventTime;
    const since = await h.api('GET', `/api/v1/audits?keyId=${k.id}&since=${encodeURIComponent(generated)}`, { token: h.tokens.alice });
    expect(since.body.data.length).toBe(3);
    const until = await h.api('GET', `/api/v1/audits?keyId=${k.id}&until=${encodeURIComponent(generated)}&since=1h`, { token: h.tokens.alice });
    expect(until.body.data.map((e: { eventType: string }) => e.eventType)).toContain('api-key.generated');
    expect((await h.api('GET', '/api/v1/audits?since=2000-01-01T00:00:00Z&until=2000-01-02T00:00:00Z', { token: h.tokens.alice })).body.data).toEqual([]);

    // hideUsage leaves the usage batches out, and only them.
    const usage = (e: { eventType: string }) => ['api-key.used', 'api-key.auth-failed'].includes(e.eventType);
    expect(all.body.data.some(usage)).toBe(true);
    const hidden = await h.api('GET', '/api/v1/audits?limit=100&hideUsage=true', { token: h.tokens.alice });
    expect(hidden.body.data.some(usage)).toBe(false);
    const rest = all.body.data.filter((e: { eventType: string }) => !usage(e)).map((e: { id: string }) => e.id);
    expect(hidden.body.data.map((e: { id: string }) => e.id).slice(0, rest.length)).toEqual(rest.slice(0, hidden.body.data.length));

    for (const q of ['eventType=api-key.exploded', 'keyId=nope', 'since=yesterday', 'limit=101', 'limit=0', 'hideUsage=yes']) {
      const bad = await h.api('GET', `/api/v1/audits?${q}`, { token: h.tokens.alice });
      expect([q, bad.status, errorCode(bad)]).toEqual([q, 400, 'INVALID_INPUT']);
    }
    const byDev = await h.api('GET', '/api/v1/audits', { token: h.tokens.carol });
    expect([byDev.status, errorCode(byDev)]).toEqual([403, 'ADMIN_ROLE_REQUIRED']);
  });

  it('pages events with links like the keys list', async () => {
    const all = (await h.api('GET', '/api/v1/audits?limit=100', { token: h.tokens.alice })).body;
    expect(all.data.length).toBeGreaterThan(6);
    const ids = all.data.map((e: { id: string }) => e.id);
    const seen: string[] = [];
    let page = (await h.api('GET', '/api/v1/audits?limit=4', { token: h.tokens.alice })).body;
    // Day segments give no exact total; what a page says is at least what it and its neighbours hold.
    expect(page.meta.total).toBeGreaterThanOrEqual(page.data.length);
    for (;;) {
      seen.push(...page.data.map((e: { id: string }) => e.id));
      if (!page.links.next) break;
      const next = new URL(page.links.next.href);
      expect(next.searchParams.get('startingAfter')).toBe(page.data[3].id);
      page = (await h.api('GET', next.pathname + next.search, { token: h.tokens.alice })).body;
    }
    // Events may have been appended meanwhile (usage flushes, on top), but never inside the walked window.
    const top = seen.indexOf(ids[0]);
    expect(top).toBeGreaterThanOrEqual(0);
    expect(seen.slice(top, top + ids.length)).toEqual(ids.slice(0, seen.length - top));
    const prev = new URL(page.links.prev.href);
    expect(prev.searchParams.get('endingBefore')).toBe(page.data[0].id);
  });
});
