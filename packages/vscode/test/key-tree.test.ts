import { describe, expect, it } from 'vitest';
import { type KeyView, manualClock } from '@keyward/core';
import { expiringSummary, myKeysExpiringSoon } from '../src/expiring.js';
import { keyContextValue, presentKey } from '../src/key-presentation.js';
import { KeyTreeModel, type KeyTreeNode, PAGE_SIZE } from '../src/key-tree.js';
import { tenant } from './helpers.js';

const labels = (nodes: KeyTreeNode[]) => nodes.map((n) => (n.kind === 'key' ? n.key.description : n.kind === 'more' ? `more ${n.shown}/${n.total}` : `${n.label} (${n.total})`));

describe('the Keys view model', () => {
  it('shows a developer their own keys, newest first, flat', async () => {
    const clock = manualClock();
    const t = await tenant({ clock });
    await t.bob.generateKey({ description: 'first' });
    clock.advance(1000);
    await t.bob.generateKey({ description: 'second' });
    await t.alice.generateKey({ description: "alice's" });
    const me = (await t.bob.whoami());
    const model = new KeyTreeModel(() => ({ service: t.bob, me }));
    expect(labels(await model.roots())).toEqual(['second', 'first']);
  });

  it('shows an admin their own keys and every key of the tenant', async () => {
    const clock = manualClock();
    const t = await tenant({ clock });
    await t.bob.generateKey({ description: "bob's" });
    clock.advance(1000);
    await t.alice.generateKey({ description: "alice's" });
    const me = (await t.alice.whoami());
    const model = new KeyTreeModel(() => ({ service: t.alice, me }));
    const roots = await model.roots();
    expect(labels(roots)).toEqual(['My keys (1)', 'All keys (2)']);
    expect(labels(await model.children('mine'))).toEqual(["alice's"]);
    expect(labels(await model.children('all'))).toEqual(["alice's", "bob's"]);
  });

  it('pages a long list a window at a time, and keeps the place across a refresh', async () => {
    const clock = manualClock();
    const t = await tenant({ clock });
    await t.alice.updateSettings({ max_keys_per_user: 1000 });
    for (let i = 0; i < PAGE_SIZE * 2 + 5; i++) {
      clock.advance(1000);
      await t.bob.generateKey({ description: `k${String(i).padStart(3, '0')}` });
    }
    const me = (await t.bob.whoami());
    let calls = 0;
    const service = new Proxy(t.bob, {
      get(target, p, r) {
        if (p === 'listKeys') calls++;
        return Reflect.get(target, p, r);
      },
    });
    const model = new KeyTreeModel(() => ({ service, me }));
    let nodes = await model.roots();
    expect(nodes).toHaveLength(PAGE_SIZE + 1);
    expect(labels(nodes).at(-1)).toBe(`more ${PAGE_SIZE}/${PAGE_SIZE * 2 + 5}`);
    expect(calls).toBe(1);
    await model.loadMore('mine');
    nodes = await model.roots();
    expect(nodes).toHaveLength(PAGE_SIZE * 2 + 1);
    model.reset();
    nodes = await model.roots();
    expect(nodes).toHaveLength(PAGE_SIZE * 2 + 1);
    await model.loadMore('mine');
    nodes = await model.roots();
    expect(nodes).toHaveLength(PAGE_SIZE * 2 + 5);
    expect(labels(nodes)[0]).toBe('k204');
    expect(labels(nodes).at(-1)).toBe('k000');
    expect(new Set(labels(nodes)).size).toBe(nodes.length);
  });

  it('is empty without a session', async () => {
    expect(await new KeyTreeModel(() => undefined).roots()).toEqual([]);
  });
});

describe('how a key looks', () => {
  const NOW = Date.parse('2026-01-01T00:00:00Z');
  const key = (over: Partial<KeyView>): KeyView => ({
    id: 'a'.repeat(24),
    tenantId: 't',
    description: 'ci',
    sub: 'bob',
    subType: 'user',
    status: 'active',
    created: '2025-12-01T00:00:00.000Z',
    createdByUser: 'bob',
    lastUpdated: '2025-12-01T00:00:00.000Z',
    expiry: '2026-01-31T00:00:00.000Z',
    actions: { rename: true, delete: true, revoke: false, rotate: true },
    ...over,
  });

  it('describes status, expiry and last use', () => {
    expect(presentKey(key({}), NOW, { showOwner: false }).description).toBe('expires in 30d · never used');
    expect(presentKey(key({ lastUsed: '2025-12-31T21:00:00.000Z' }), NOW, { showOwner: true }).description).toBe('bob · expires in 30d · used 3h ago');
    expect(presentKey(key({ status: 'revoked' }), NOW, { showOwner: false }).description).toBe('revoked · never used');
    expect(presentKey(key({ expiry: '2025-12-30T00:00:00.000Z' }), NOW, { showOwner: false }).description).toBe('expired 2d ago · never used');
  });

  it('picks an icon per status, and warns about a key expiring within 7 days', () => {
    const icon = (k: KeyView) => presentKey(k, NOW, { showOwner: false }).icon.id;
    expect(icon(key({}))).toBe('key');
    expect(icon(key({ expiry: '2026-01-05T00:00:00.000Z' }))).toBe('warning');
    expect(icon(key({ status: 'revoked' }))).toBe('circle-slash');
    expect(icon(key({ expiry: '2025-12-30T00:00:00.000Z' }))).toBe('history');
  });

  it('offers the actions the view says its viewer may take, and no more once the key has expired since it was read', () => {
    const none = { rename: false, delete: false, revoke: false, rotate: false };
    expect(keyContextValue(key({ actions: { ...none, rename: true, delete: true, rotate: true } }), NOW)).toBe('key active rename delete rotate');
    expect(keyContextValue(key({ actions: none }), NOW)).toBe('key active');
    expect(keyContextValue(key({ actions: { ...none, revoke: true } }), NOW)).toBe('key active revoke');
    expect(keyContextValue(key({ status: 'revoked', actions: { ...none, rename: true, delete: true } }), NOW)).toBe('key revoked rename delete');
    expect(keyContextValue(key({ expiry: '2025-12-30T00:00:00.000Z', actions: { rename: true, delete: true, revoke: true, rotate: true } }), NOW)).toBe('key expired rename delete');
  });
});

describe('keys expiring soon (the status bar)', () => {
  it('counts only my active keys expiring within 7 days, soonest first', async () => {
    const clock = manualClock();
    const t = await tenant({ clock });
    await t.alice.updateSettings({ max_api_key_expiry: 'P90D', max_keys_per_user: 1000 });
    await t.bob.generateKey({ description: 'in 3 days', expiry: 'P3D' });
    await t.bob.generateKey({ description: 'in 1 day', expiry: 'P1D' });
    await t.bob.generateKey({ description: 'in 30 days', expiry: 'P30D' });
    const revoked = await t.bob.generateKey({ description: 'revoked', expiry: 'P2D' });
    await t.alice.revokeKey(revoked.id);
    await t.bob.generateKey({ description: 'gone', expiry: 'PT1M' });
    await t.alice.generateKey({ description: "alice's", expiry: 'P1D' });
    for (let i = 0; i < 150; i++) await t.bob.generateKey({ description: `later ${i}`, expiry: 'P60D' });
    await t.bob.generateKey({ description: 'in 6 days', expiry: 'P6D' });
    // Core's expiresSoon, as the terminal UI's ⚠: a key that still reads "in 7d" does not stand out yet.
    await t.bob.generateKey({ description: 'in 7 days', expiry: 'P7D' });
    clock.advance(120_000);
    const soon = await myKeysExpiringSoon(t.bob, 'bob', clock.now());
    expect(soon.map((k) => k.description)).toEqual(['in 1 day', 'in 3 days', 'in 6 days']);
    const s = expiringSummary(soon, clock.now());
    expect(s.text).toBe('$(key) 3 expiring');
    expect(s.tooltip).toContain('• in 1 day — in 1d\n• in 3 days — in 3d');
    expect(s.warn).toBe(true);
    expect(expiringSummary([], clock.now())).toMatchObject({ text: '$(key) Keyward', warn: false });
  });
});
