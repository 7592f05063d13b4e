// The actions a view carries (policy's keyActions, userActions, viewerActions)
// as a table: every viewer role × own/other key × status, then the same
// answers checked against what the engine really does when each is tried.
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SETTINGS,
  type KeyActions,
  type KeyService,
  type KeyView,
  type Role,
  type Settings,
  type User,
  createEngine,
  createMemoryStore,
  initStore,
  keyActions,
  keyActionsOf,
  keyActionsOnceExpired,
  keyViewAt,
  manualClock,
  type UsageRow,
  userActions,
  viewerActions,
} from '../src/index.js';
import { settingsOfView, usageRowWithActions, userOfView } from '../src/wire/older-server.js';
import { storedKey } from './helpers.js';

const NOW = Date.parse('2026-06-01T00:00:00Z');
const ROLE_SETS: Record<string, Role[]> = { none: [], dev: ['Developer'], admin: ['TenantAdmin'], both: ['TenantAdmin', 'Developer'] };
const user = (id: string, roles: Role[], licence = true): User => ({ id, roles, licence, created: '2026-01-01T00:00:00Z' });
type State = Parameters<typeof storedKey>[1];
const key = storedKey;
const on: Settings = { ...DEFAULT_SETTINGS, apiKeysEnabled: true };

/** The actions a viewer may take, as letters: n rename, d delete, r revoke, o rotate; '-' for none. */
const letters = (a: KeyActions) => (a.rename ? 'n' : '') + (a.delete ? 'd' : '') + (a.revoke ? 'r' : '') + (a.rotate ? 'o' : '') || '-';

// Columns: none, dev, admin, both (roles of the viewer).
type Row = [what: string, expected: [string, string, string, string], owner: 'own' | 'other', state: State, settings?: Settings];
const rows: Row[] = [
  ['own active key', ['-', 'ndo', 'r', 'ndro'], 'own', 'active'],
  ['own expired key', ['-', 'nd', '-', 'nd'], 'own', 'expired'],
  ['own revoked key', ['-', 'nd', '-', 'nd'], 'own', 'revoked'],
  ['own key already rotated (active for the overlap)', ['-', 'nd', 'r', 'ndr'], 'own', 'rotated'],
  ["someone else's active key", ['-', '-', 'r', 'r'], 'other', 'active'],
  ["someone else's expired key", ['-', '-', '-', '-'], 'other', 'expired'],
  ["someone else's revoked key", ['-', '-', '-', '-'], 'other', 'revoked'],
  ['own active key, API keys disabled', ['-', 'nd', 'r', 'ndr'], 'own', 'active', DEFAULT_SETTINGS],
  ['own active key, key limit 0', ['-', 'nd', 'r', 'ndr'], 'own', 'active', { ...on, maxKeysPerUser: 0 }],
];

describe('key actions a view carries, per viewer role, ownership and status', () => {
  for (const [what, expected, owner, state, settings] of rows) {
    it(what, () => {
      const got = Object.entries(ROLE_SETS).map(([name, roles]) => {
        const viewer = user(name, roles);
        return letters(keyActions(viewer, key(owner === 'own' ? name : 'other', state), settings ?? on, NOW));
      });
      expect(got).toEqual(expected);
    });
  }

  it('a list page decides the viewer\'s part once (keyActionsOf) and gets each key the same answers', () => {
    for (const [name, roles] of Object.entries(ROLE_SETS)) {
      const viewer = user(name, roles);
      // One function per viewer and settings, used for every key of the table in turn.
      const forSettings = new Map<Settings, ReturnType<typeof keyActionsOf>>();
      const got = rows.map(([, , owner, state, settings]) => {
        const s = settings ?? on;
        if (!forSettings.has(s)) forSettings.set(s, keyActionsOf(viewer, s));
        return letters(forSettings.get(s)!(key(owner === 'own' ? name : 'other', state), NOW));
      });
      const column = Object.keys(ROLE_SETS).indexOf(name);
      expect(got).toEqual(rows.map(([, expected]) => expected[column]));
    }
  });

  it('without a licence, a developer may not rotate (generating needs one) but may still rename and delete', () => {
    expect(letters(keyActions(user('d', ['Developer'], false), key('d', 'active'), on, NOW))).toBe('nd');
  });

  it('time alone takes exactly what expiry takes: keyActionsOnceExpired agrees with asking again after the expiry', () => {
    const later = Date.parse('2026-07-02T00:00:00Z');
    for (const [name, roles] of Object.entries(ROLE_SETS)) {
      for (const owner of [name, 'other']) {
        for (const state of ['active', 'revoked', 'rotated'] as const) {
          const viewer = user(name, roles);
          const k = key(owner, state);
          expect(keyActionsOnceExpired(keyActions(viewer, k, on, NOW))).toEqual(keyActions(viewer, k, on, later));
        }
      }
    }
  });
});

describe('user actions and viewer actions', () => {
  const admin = user('a', ['TenantAdmin']);
  const dev = user('d', ['Developer']);
  it('an admin may change anyone, but not demote or remove the last admin', () => {
    expect(userActions(admin, admin, 1)).toEqual({ setLicence: true, setRoles: true, demote: false, remove: false });
    expect(userActions(admin, admin, 2)).toEqual({ setLicence: true, setRoles: true, demote: true, remove: true });
    expect(userActions(admin, dev, 1)).toEqual({ setLicence: true, setRoles: true, demote: false, remove: true });
  });
  it('a developer may change nobody, themselves included', () => {
    expect(userActions(dev, dev, 1)).toEqual({ setLicence: false, setRoles: false, demote: false, remove: false });
    expect(userActions(dev, admin, 2)).toEqual({ setLicence: false, setRoles: false, demote: false, remove: false });
  });
  it("say why not with the refusal the attempt would meet", () => {
    expect(viewerActions(admin)).toEqual({ seeAllKeys: { ok: true }, revokeKeys: { ok: true }, manageUsers: { ok: true }, changeSettings: { ok: true }, viewEvents: { ok: true } });
    const d = viewerActions(dev);
    expect(d.revokeKeys).toEqual({ ok: false, code: 'ADMIN_ROLE_REQUIRED', message: 'Only a tenant admin can revoke a key.' });
    for (const p of [d.seeAllKeys, d.manageUsers, d.changeSettings, d.viewEvents]) expect(p).toMatchObject({ ok: false, code: 'ADMIN_ROLE_REQUIRED' });
  });
});

/** A tenant with alice (admin + developer), bob (developer), carol (admin only) and one key of bob's in `state`. */
async function tenantWith(state: 'active' | 'expired' | 'revoked' | 'rotated') {
  const clock = manualClock();
  const store = createMemoryStore();
  await initStore(store, { admin: 'alice', clock });
  const engine = createEngine(store, { clock, usageFlushMs: 0 });
  const alice = engine.as('alice');
  await alice.updateSettings({ api_keys_enabled: true, max_keys_per_user: 10 });
  await alice.updateUser('alice', { developer: true });
  await alice.addUser('bob', { licence: true });
  await alice.updateUser('bob', { developer: true });
  await alice.addUser('carol', { licence: true });
  await alice.updateUser('carol', { admin: true });
  const bob = engine.as('bob');
  const k = await bob.generateKey({ description: 'deploys', expiry: 'P1D' });
  if (state === 'expired') clock.advance(2 * 86_400_000);
  if (state === 'revoked') await alice.revokeKey(k.id);
  if (state === 'rotated') await bob.rotateKey(k.id);
  const viewers: Record<string, KeyService> = { alice, bob, carol: engine.as('carol') };
  return { engine, viewers, id: k.id, clock };
}

const attempts: Record<keyof KeyActions, (s: KeyService, id: string) => Promise<unknown>> = {
  rename: (s, id) => s.renameKey(id, 'renamed'),
  delete: (s, id) => s.deleteKey(id),
  revoke: (s, id) => s.revokeKey(id),
  rotate: (s, id) => s.rotateKey(id),
};

describe('the engine: every key view carries its viewer actions, and each says what an attempt does', () => {
  for (const state of ['active', 'expired', 'revoked', 'rotated'] as const) {
    for (const viewer of ['alice', 'bob', 'carol']) {
      it(`${viewer} on bob's ${state} key`, async () => {
        const seen = await tenantWith(state);
        const view: KeyView | undefined = (await seen.viewers[viewer].listKeys({ sub: 'bob', limit: 10 })).data.find((k) => k.id === seen.id);
        expect(view).toBeDefined();
        expect(await seen.viewers[viewer].getKey(seen.id)).toMatchObject({ actions: view!.actions });
        await seen.engine.close();
        for (const action of Object.keys(attempts) as (keyof KeyActions)[]) {
          const fresh = await tenantWith(state);
          const outcome = await attempts[action](fresh.viewers[viewer], fresh.id).then(
            () => true,
            () => false,
          );
          expect({ action, allowed: outcome }).toEqual({ action, allowed: view!.actions[action] });
          await fresh.engine.close();
        }
      });
    }
  }

  it('whoami says what the viewer may do at all, and their own user view what they may do to themselves', async () => {
    const { engine, viewers } = await tenantWith('active');
    const bob = await viewers.bob.whoami();
    expect(bob.may.manageUsers.ok).toBe(false);
    expect(bob.user.actions).toEqual({ setLicence: false, setRoles: false, demote: false, remove: false });
    const alice = await viewers.alice.whoami();
    expect(alice.may.revokeKeys.ok).toBe(true);
    expect(alice.user.actions.remove).toBe(true);
    const users = await viewers.alice.listUsers();
    expect(Object.fromEntries(users.map((u) => [u.name, u.actions.demote]))).toEqual({ alice: true, bob: false, carol: true });
    await engine.close();
  });
});

describe('usage rows', () => {
  it("carry the viewer's actions on the key: revoke while it is active, nothing once it is deleted", async () => {
    const { engine, viewers, id } = await tenantWith('active');
    const token = (await viewers.bob.rotateKey(id, 'PT1H')).token;
    const fresh = token.slice(3, 27);
    expect((await engine.verify(token)).valid).toBe(true);
    await engine.flush();
    const row = async (keyId: string) => (await viewers.alice.usage()).find((r) => r.keyId === keyId);
    expect((await row(fresh))?.actions).toEqual({ rename: false, delete: false, revoke: true, rotate: false });
    await viewers.bob.deleteKey(fresh);
    expect(await row(fresh)).toMatchObject({ status: 'deleted', actions: { rename: false, delete: false, revoke: false, rotate: false } });
    await engine.close();
  });
});

describe('usage rows from a server older than the actions (wire/older-server.ts)', () => {
  it('are completed with the actions the server itself gives each viewer, for active, expired, revoked and deleted keys', async () => {
    const { engine, viewers, clock } = await tenantWith('active');
    const made = await Promise.all(['kept', 'expires', 'revoked', 'deleted'].map((d) => viewers.bob.generateKey({ description: d, expiry: d === 'expires' ? 'PT1M' : 'P1D' })));
    for (const m of made) expect((await engine.verify(m.token)).valid).toBe(true);
    await engine.flush();
    await viewers.alice.revokeKey(made[2].id);
    await viewers.bob.deleteKey(made[3].id);
    clock.advance(120_000);
    for (const who of [viewers.alice, viewers.carol]) {
      const me = await who.whoami();
      const viewer = { actor: userOfView(me.user), settings: settingsOfView(me.settings), admins: 2 };
      const rows = await who.usage();
      expect(rows.map((r) => r.status).sort()).toEqual(['active', 'deleted', 'expired', 'revoked']);
      expect(rows.some((r) => r.actions.revoke)).toBe(true);
      // As an older server answers: the same rows without their actions.
      const completed = rows.map(({ actions: _, ...older }) => usageRowWithActions(older as UsageRow, viewer, clock.now()));
      expect(completed).toEqual(rows);
    }
    await engine.close();
  });
});

describe('verify, asked by anyone holding a token', () => {
  it('answers a caller who is no user of the tenant, offering them no action on the key', async () => {
    const { engine, viewers, id } = await tenantWith('active');
    const token = (await viewers.bob.rotateKey(id, 'PT0S')).token;
    const r = await engine.as('nobody').verifyToken(token);
    expect(r.valid && r.key.actions).toEqual({ rename: false, delete: false, revoke: false, rotate: false });
    const own = await viewers.bob.verifyToken(token);
    expect(own.valid && own.key.actions).toEqual({ rename: true, delete: true, revoke: false, rotate: true });
    await engine.close();
  });
});

describe('keyViewAt: a view read earlier, as it stands later', () => {
  it('turns an active key expired once its expiry passes, taking revoke and rotate with it; nothing else changes', async () => {
    const { engine, viewers, id } = await tenantWith('active');
    const view = await viewers.alice.getKey(id);
    expect(view.actions).toEqual({ rename: false, delete: false, revoke: true, rotate: false });
    expect(keyViewAt(view, Date.parse(view.expiry) - 1)).toBe(view);
    expect(keyViewAt(view, Date.parse(view.expiry))).toEqual({ ...view, status: 'expired', actions: { rename: false, delete: false, revoke: false, rotate: false } });
    const revoked = await viewers.alice.revokeKey(id);
    expect(keyViewAt(revoked, Date.parse(view.expiry) + 1)).toBe(revoked);
    await engine.close();
  });
});
