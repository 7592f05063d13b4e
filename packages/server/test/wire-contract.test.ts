// The wire contract in core (ROUTES, pathOf, meBody/whoamiOf) is the one the
// server's route table serves: every named route is matched, with its
// parameters, by the router the server runs; and a path filled in by the
// remote adapter reaches the same handler with the same parameter back.
import { type RouteName, ROUTES, type WhoAmI, meBody, pathOf, whoamiOf } from '@keyward/core';
import { describe, expect, it } from 'vitest';
import { router } from '../src/routes/index.js';

const SAMPLE: Record<string, string> = { id: 'a'.repeat(24), tenantId: 't-1', name: 'dave@example.com/x y' };

describe('the wire contract', () => {
  it('names only routes the server answers, each with the parameters it names', () => {
    for (const name of Object.keys(ROUTES) as RouteName[]) {
      const params = Object.fromEntries([...ROUTES[name].matchAll(/:(\w+)/g)].map((m) => [m[1], SAMPLE[m[1]]]));
      const path = (pathOf as (r: RouteName, p?: Record<string, string>) => string)(name, params);
      const segments = path.split('/').slice(1).map(decodeURIComponent);
      const methods = ['GET', 'POST', 'PATCH', 'DELETE'].map((m) => router.match(m, segments));
      const served = methods.filter((m) => m !== undefined && !('allowed' in m));
      // A literal route may share its path with a parameter route's other methods (GET /api-keys/verify reaches GET /api-keys/{id}):
      // one method at least reaches this route, with these parameters.
      const here = served.filter((m) => !('params' in m!) || JSON.stringify(m.params) === JSON.stringify(params));
      expect({ name, served: here.length > 0 }).toEqual({ name, served: true });
    }
  });

  it('finds a literal route by its path as the walk through the table does, escaped or not', () => {
    for (const name of Object.keys(ROUTES) as RouteName[]) {
      const params = Object.fromEntries([...ROUTES[name].matchAll(/:(\w+)/g)].map((m) => [m[1], SAMPLE[m[1]]]));
      const path = (pathOf as (r: RouteName, p?: Record<string, string>) => string)(name, params);
      // The same path with its last letter %-escaped takes the walk: both must answer alike.
      const escaped = path.replace(/[a-z](?=[^a-z]*$)/, (c) => `%${c.charCodeAt(0).toString(16)}`);
      for (const m of ['GET', 'POST', 'PATCH', 'DELETE', 'PUT']) {
        const walked = router.match(m, path.split('/').slice(1).map(decodeURIComponent));
        expect({ name, m, found: router.matchPath(m, path) }).toEqual({ name, m, found: walked });
        expect({ name, m, found: router.matchPath(m, escaped) }).toEqual({ name, m, found: walked });
      }
    }
    expect(router.matchPath('GET', '/api/v1/users/me/')).toBeUndefined();
    expect(() => router.matchPath('GET', '/api/v1/users/%zz')).toThrow(/broken %-escape/);
  });

  it('fills a parameter in as one path segment, whatever it holds', () => {
    expect(pathOf('user', { name: 'a/b c?' })).toBe('/api/v1/users/a%2Fb%20c%3F');
    expect(pathOf('rotateKey', { id: 'abc' })).toBe('/api/v1/api-keys/abc/rotate');
    expect(pathOf('me')).toBe('/api/v1/users/me');
  });

  it('reads back from /users/me exactly the whoami the server sent, its location aside', () => {
    const me: WhoAmI = {
      user: { id: 'bob', name: 'bob', licence: true, roles: ['Developer'], actions: { setLicence: false, setRoles: false, demote: false, remove: false } },
      tenant: { id: 't-1', name: 'Acme' },
      settings: { api_keys_enabled: true, max_api_key_expiry: 'P30D', max_keys_per_user: 5, excessive_use_per_minute: 600, events_retention: 'P90D' },
      location: 'http://127.0.0.1:1',
      canGenerate: { ok: true },
      may: { seeAllKeys: { ok: false, code: 'ADMIN_ROLE_REQUIRED', message: 'no' }, revokeKeys: { ok: true }, manageUsers: { ok: true }, changeSettings: { ok: true }, viewEvents: { ok: true } },
    };
    const wire = JSON.parse(JSON.stringify(meBody(me)));
    expect(wire.links.config.href).toBe('/api/v1/api-keys/configs/t-1');
    expect(Object.keys(wire).slice(0, 4)).toEqual(['id', 'name', 'licence', 'roles']);
    expect(whoamiOf(wire, me.location)).toEqual(me);
  });
});
