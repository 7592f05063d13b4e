import { describe, expect, it } from 'vitest';
import { type StoreDocument, TenantState, manualClock } from '../src/index.js';
import { seededStore } from './helpers.js';

describe('active key counts', () => {
  it('agree with counting every key, for any owner at any moment', () => {
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    const keys: StoreDocument['keys'] = {};
    for (let i = 0; i < 500; i++) {
      const id = i.toString(16).padStart(24, '0');
      const expiry = new Date(t0 + Math.floor(rand() * 1000) * 1000).toISOString();
      keys[id] = { id, description: 'k', owner: `u${Math.floor(rand() * 7)}`, createdBy: 'x', created: expiry, lastUpdated: expiry, expiry, hash: '', ...(rand() < 0.2 ? { revokedAt: expiry } : {}) };
    }
    const state = TenantState.fromDocument({ keys, users: {} } as unknown as StoreDocument);
    for (let probe = 0; probe < 200; probe++) {
      const owner = `u${Math.floor(rand() * 8)}`;
      const now = t0 + Math.floor(rand() * 1100) * 1000 - 50_000;
      const expected = Object.values(keys).filter((k) => k.owner === owner && !k.revokedAt && Date.parse(k.expiry) > now).length;
      expect(state.countActiveKeys(owner, now)).toBe(expected);
    }
  });

  it('keep whoami\'s "can generate" right as keys are generated, revoked, expire and are deleted', async () => {
    const clock = manualClock();
    const { alice, bob } = await seededStore({ clock, maxKeys: 2 });
    const can = async () => (await bob.whoami()).canGenerate;
    expect(await can()).toEqual({ ok: true });
    const short = await bob.generateKey({ description: 'short', expiry: 'PT1M' });
    const long = await bob.generateKey({ description: 'long' });
    expect(await can()).toMatchObject({ ok: false, code: 'KEY_LIMIT_REACHED' });
    clock.advance(60_000);
    expect(await can()).toEqual({ ok: true });
    await bob.generateKey({ description: 'third' });
    expect(await can()).toMatchObject({ ok: false, code: 'KEY_LIMIT_REACHED' });
    await alice.revokeKey(long.id);
    expect(await can()).toEqual({ ok: true });
    const fourth = await bob.generateKey({ description: 'fourth' });
    expect(await can()).toMatchObject({ ok: false });
    await bob.deleteKey(fourth.id);
    expect(await can()).toEqual({ ok: true });
    await bob.deleteKey(short.id);
  });
});
