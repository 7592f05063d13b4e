import { cleanup } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import { type EventFind, MemoryStore, newEvent } from '@keyward/core';
import { osc52 } from '../src/ui/clipboard.js';
import { KEY, openApp, readyTenant, tenant } from './harness.js';

afterEach(cleanup);

describe('Settings', () => {
  it('switches API keys on and off', async () => {
    const t = await tenant();
    const app = await openApp(t.alice);
    await app.press('3');
    await app.waitFor(/API keys\s+off/);
    await app.press(KEY.enter);
    await app.waitFor('API keys is now on.');
    expect((await t.alice.getSettings()).api_keys_enabled).toBe(true);
  });

  it('sets how long events are kept', async () => {
    const t = await tenant();
    const app = await openApp(t.alice);
    await app.press('3');
    await app.waitFor(/Events kept for\s+P90D \(90 days\)/);
    await app.press('G', KEY.enter, KEY.ctrlU);
    await app.type('0d');
    expect(await app.waitFor('(INVALID_SETTING)')).toContain('events retention');
    await app.press(KEY.ctrlU);
    await app.type('2w');
    await app.press(KEY.enter);
    await app.waitFor('Events kept for is now P2W (14 days).');
    expect((await t.alice.getSettings()).events_retention).toBe('P2W');
  });

  it('checks values as they are typed and saves only what the engine accepts', async () => {
    const t = await tenant();
    const app = await openApp(t.alice);
    await app.press('3', 'j', 'j', KEY.enter);
    await app.waitFor('enter save · esc cancel');
    await app.press(KEY.ctrlU);
    await app.type('1001');
    let f = await app.waitFor('(INVALID_SETTING)');
    expect(f).toContain('from 0 to 1000');
    await app.press(KEY.enter);
    expect((await t.alice.getSettings()).max_keys_per_user).toBe(5);
    await app.press(KEY.backspace);
    await app.waitFor((s) => !s.includes('INVALID_SETTING'));
    await app.press(KEY.enter);
    await app.waitFor('Maximum active keys per user is now 100.');
    expect((await t.alice.getSettings()).max_keys_per_user).toBe(100);

    await app.press('k', KEY.enter, KEY.ctrlU);
    await app.type('forever');
    f = await app.waitFor('(INVALID_SETTING)');
    expect(f).toContain('positive ISO 8601 duration');
    await app.press(KEY.ctrlU);
    await app.type('90d');
    await app.press(KEY.enter);
    await app.waitFor('Maximum key lifetime is now P90D (90 days).');
    await app.press('j', KEY.enter, KEY.esc);
    await app.waitFor(/Maximum active keys per user\s+100/);
  });
});

describe('Users', () => {
  it('adds a user, gives a licence and the Developer role, and asks before one drops one\'s own admin role', async () => {
    const t = await tenant();
    const app = await openApp(t.alice);
    await app.press('4');
    await app.waitFor('1 user of tenant default');
    await app.press('n');
    await app.waitFor('Add a user');
    await app.type('not a name!');
    await app.waitFor('(INVALID_INPUT)');
    await app.press(KEY.ctrlU);
    await app.type('carol');
    await app.press(KEY.enter);
    await app.waitFor('Added carol');
    await app.waitFor('2 users');
    await app.press('G', 'l');
    await app.waitFor('carol: licence given.');
    await app.press('d');
    await app.waitFor('carol: Developer role given.');
    expect(await t.alice.listUsers()).toContainEqual(expect.objectContaining({ id: 'carol', name: 'carol', licence: true, roles: ['Developer'] }));
    await app.waitFor(/carol\s+✓ yes\s+✓ yes\s+– no/);

    await app.press('g', 'd');
    await app.waitFor('alice: Developer role given.');
    // The only admin: core's view says the role cannot be taken, so nothing is asked and the engine's refusal reads with its code.
    await app.press('A');
    const f = await app.waitFor('make someone else an admin first.');
    expect(f).toContain('(INVALID_INPUT)');
    expect(f).not.toContain('Take your own TenantAdmin role?');
    expect((await t.alice.whoami()).user.roles).toContain('TenantAdmin');
    // With a second admin, dropping one's own role is asked first.
    await app.press('G', 'A');
    await app.waitFor('carol: TenantAdmin role given.');
    await app.waitFor(/carol\s+✓ yes\s+✓ yes\s+✓ yes/);
    await app.press('g', 'A');
    await app.waitFor('Take your own TenantAdmin role?');
    await app.press('n');
    await app.waitFor('2 users');
    expect((await t.alice.whoami()).user.roles).toContain('TenantAdmin');
  });
});

describe('Events', () => {
  it('lists events newest first, expands one, copies its key id and jumps to the key', async () => {
    const t = await readyTenant();
    const k = await t.bob.generateKey({ description: 'deploy prod' });
    await t.bob.renameKey(k.id, 'deploy production');
    const app = await openApp(t.alice, { columns: 120 });
    await app.press('2');
    let f = await app.waitFor('events · usage hidden (u shows)');
    const rows = f.split('\n').filter((l) => /\d\d-\d\d \d\d:\d\d:\d\d/.test(l));
    expect(rows[0]).toContain('renamed');
    expect(rows[0]).toContain('"deploy prod" → "deploy production"');
    expect(rows[1]).toContain('generated');
    await app.press(KEY.enter);
    f = await app.waitFor('Event api-key.renamed');
    expect(f).toContain('from: deploy prod');
    expect(f).toContain(k.id);
    await app.press('c');
    expect(app.copied).toEqual([osc52(k.id)]);
    await app.press(KEY.esc, 't');
    await app.waitFor('1/1 event · type api-key.generated');
    await app.press('o');
    f = await app.waitFor((s) => s.includes('1/1 key') && s.includes(`search "${k.id}"`));
    expect(f).toContain('deploy production');
  });

  it('pages down to the oldest event on a store that does not count every match (day segments)', async () => {
    const store = new MemoryStore();
    // As the JSON store answers: pages with cursors, no total.
    const uncounted = new Proxy(store, {
      get(target, p) {
        if (p === 'findEvents') return async (q: EventFind) => ({ ...(await target.findEvents(q)), total: undefined });
        const v = Reflect.get(target, p, target);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    const t = await readyTenant({ store: uncounted });
    // Within the retention period: the engine's first sweep (2 s in) would remove older ones while the test pages.
    const base = Date.now() - 3_600_000;
    await store.append(Array.from({ length: 450 }, (_, i) => newEvent('user.updated', base + i * 1000, 'alice', undefined, { user: `u${i}`, from: {}, to: {} })));
    const app = await openApp(t.alice);
    await app.press('2');
    await app.waitFor('events · usage hidden (u shows)');
    let f = '';
    for (let i = 0; i < 10 && !f.includes('455/455 events'); i++) {
      await app.press('G');
      f = await app.waitFor((s) => /\d+\/\d+ events/.test(s));
    }
    expect(f).toContain('455/455 events');
  });

  it('filters by user or key with /', async () => {
    const t = await readyTenant();
    const k = await t.bob.generateKey({ description: 'deploy' });
    await t.alice.generateKey({ description: 'mine' });
    const app = await openApp(t.alice);
    await app.press('2');
    await app.waitFor('events');
    await app.press('/');
    await app.type('bob');
    await app.press(KEY.enter);
    let f = await app.waitFor((s) => s.includes('usage hidden (u shows) · user bob') && s.includes('"deploy" for bob'));
    expect(f).not.toContain('"mine"');
    await app.press('/', KEY.ctrlU);
    await app.type(k.id);
    await app.press(KEY.enter);
    f = await app.waitFor((s) => s.includes(`key ${k.id}`) && s.includes('1/1 event'));
    expect(f).toContain('generated');
    await app.press(KEY.esc);
    await app.waitFor('usage hidden (u shows)');
  });

  it('ranks keys by use, flags excessive use, and revokes from the usage panel', async () => {
    const t = await readyTenant();
    await t.alice.updateSettings({ excessive_use_per_minute: 1 });
    const busy = await t.bob.generateKey({ description: 'busy bot' });
    const calm = await t.bob.generateKey({ description: 'calm' });
    for (let i = 0; i < 40; i++) await t.engine.verify(busy.token);
    await t.engine.verify(calm.token);
    await t.engine.flush();
    const app = await openApp(t.alice);
    await app.press('2');
    const f = await app.waitFor('⚠ excessive');
    const busyRow = f.split('\n').find((l) => l.includes('busy bot') && l.includes('█'))!;
    expect(busyRow).toMatch(/busy bot\s+bob\s+40\s+40 █{10}\s+⚠ excessive/);
    expect(f).toMatch(/calm\s+bob\s+1\s+1 █\s/);
    await app.press(KEY.tab, 'r');
    await app.waitFor('Revoke this key?');
    await app.press('y');
    await app.waitFor('Revoked 1 key.');
    expect((await t.alice.getKey(busy.id)).status).toBe('revoked');
    expect((await t.alice.getKey(calm.id)).status).toBe('active');
    await app.waitFor(/busy bot \(revoked\)/);
  });
});
