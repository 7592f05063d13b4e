import { describe, expect, it, vi } from 'vitest';
import { createMemoryStore, createRemoteService, followStoreChanges, manualClock } from '../src/index.js';
import { refusal, seededStore } from './helpers.js';


describe('keys', () => {
  it('derives status from time: active, then expired exactly at expiry; revoked wins', async () => {
    const clock = manualClock();
    const { alice, bob, engine } = await seededStore({ clock });
    const k = await bob.generateKey({ description: 'short', expiry: 'PT2S' });
    expect(k.status).toBe('active');
    expect((await engine.verify(k.token)).valid).toBe(true);
    clock.advance(1999);
    expect((await bob.getKey(k.id)).status).toBe('active');
    clock.advance(1);
    expect((await bob.getKey(k.id)).status).toBe('expired');
    expect(await engine.verify(k.token)).toMatchObject({ valid: false, reason: 'expired' });
    expect(await refusal(alice.revokeKey(k.id))).toBe('KEY_NOT_ACTIVE');

    const r = await bob.generateKey({ description: 'to revoke', expiry: 'PT1S' });
    await alice.revokeKey(r.id);
    clock.advance(5000);
    expect((await alice.getKey(r.id)).status).toBe('revoked');
  });

  it('counts only active keys against the limit, and keeps keys above a lowered limit', async () => {
    const clock = manualClock();
    const { alice, bob } = await seededStore({ clock, maxKeys: 3 });
    const keys = [];
    for (let i = 0; i < 3; i++) keys.push(await bob.generateKey({ description: `k${i}`, expiry: i === 0 ? 'PT1M' : undefined }));
    expect(await refusal(bob.generateKey({ description: 'one too many' }))).toBe('KEY_LIMIT_REACHED');
    clock.advance(60_000); // k0 expires
    await bob.generateKey({ description: 'replaces the expired one' });
    await alice.updateSettings({ max_keys_per_user: 1 });
    const active = await bob.listKeys({ status: 'active' });
    expect(active.total).toBe(3);
    expect(await refusal(bob.generateKey({ description: 'x' }))).toBe('KEY_LIMIT_REACHED');
    await alice.revokeKeys(active.data.map((k) => k.id));
    await bob.generateKey({ description: 'fits again' });
  });

  it('applies a new maximum lifetime to new keys only', async () => {
    const { alice, bob } = await seededStore();
    const before = await bob.generateKey({ description: 'before' });
    await alice.updateSettings({ max_api_key_expiry: '1d' });
    expect((await alice.getSettings()).max_api_key_expiry).toBe('P1D');
    expect(await refusal(bob.generateKey({ description: 'x', expiry: 'P2D' }))).toBe('EXPIRY_TOO_LONG');
    const after = await bob.generateKey({ description: 'after' });
    expect(Date.parse(after.expiry) - Date.parse(after.created)).toBe(86_400_000);
    expect((await bob.getKey(before.id)).expiry).toBe(before.expiry);
  });

  it('lets owners rename and delete, admins revoke, and hides others’ keys from non-admins', async () => {
    const { alice, bob, carol, engine } = await seededStore();
    const b = await bob.generateKey({ description: 'bob one' });
    expect(await refusal(carol.getKey(b.id))).toBe('KEY_NOT_FOUND');
    expect(await refusal(carol.renameKey(b.id, 'mine now'))).toBe('KEY_NOT_FOUND');
    expect(await refusal(alice.renameKey(b.id, 'admin rename'))).toBe('NOT_KEY_OWNER');
    expect(await refusal(alice.deleteKey(b.id))).toBe('NOT_KEY_OWNER');
    expect(await refusal(bob.revokeKey(b.id))).toBe('ADMIN_ROLE_REQUIRED');
    expect((await bob.renameKey(b.id, 'bob renamed')).description).toBe('bob renamed');
    expect((await carol.listKeys()).total).toBe(0);
    expect((await alice.listKeys()).total).toBe(1);
    await bob.deleteKey(b.id);
    expect(await engine.verify(b.token)).toMatchObject({ valid: false, reason: 'unknown' });
    expect(await refusal(bob.getKey(b.id))).toBe('KEY_NOT_FOUND');
    expect((await alice.listKeys()).total).toBe(0);
  });

  it('revokes several keys at once, leaving the inactive ones and reporting them', async () => {
    const clock = manualClock();
    const { alice, bob, carol, engine } = await seededStore({ clock });
    const a = await bob.generateKey({ description: 'a' });
    const b = await carol.generateKey({ description: 'b' });
    const c = await bob.generateKey({ description: 'c', expiry: 'PT1S' });
    clock.advance(1000);
    await alice.revokeKey(b.id);
    const d = await carol.generateKey({ description: 'd' });
    const report = await alice.revokeKeys([a.id, b.id, c.id, d.id, 'nope', a.id]);
    expect(report.revoked.map((k) => k.id).sort()).toEqual([a.id, d.id].sort());
    expect(report.skipped.map((s) => [s.id, s.code])).toEqual([
      [b.id, 'KEY_NOT_ACTIVE'],
      [c.id, 'KEY_NOT_ACTIVE'],
      ['nope', 'KEY_NOT_FOUND'],
    ]);
    expect((await engine.verify(a.token)).valid).toBe(false);
    expect((await engine.verify(d.token)).valid).toBe(false);
    expect(await refusal(bob.revokeKeys([a.id]))).toBe('ADMIN_ROLE_REQUIRED');
  });

  it('deletes all of my keys and only mine', async () => {
    const { alice, bob } = await seededStore();
    for (let i = 0; i < 3; i++) await bob.generateKey({ description: `b${i}` });
    const a = await alice.generateKey({ description: 'alice keeps this' });
    expect(await bob.deleteAllKeys()).toEqual({ deleted: 3 });
    expect((await alice.listKeys()).data.map((k) => k.id)).toEqual([a.id]);
  });

  it('searches by description, id and owner, filters by status, sorts and pages with cursors', async () => {
    const clock = manualClock();
    const { alice, bob, carol } = await seededStore({ clock });
    const made = [];
    for (let i = 0; i < 25; i++) {
      clock.advance(1000);
      made.push(await (i % 2 ? bob : carol).generateKey({ description: `service ${String(i).padStart(2, '0')}${i === 7 ? ' billing' : ''}` }));
    }
    expect((await alice.listKeys({ search: 'BILLING' })).data.map((k) => k.id)).toEqual([made[7].id]);
    expect((await alice.listKeys({ search: made[3].id.slice(4, 14) })).data.map((k) => k.id)).toEqual([made[3].id]);
    expect((await alice.listKeys({ search: 'carol', limit: 100 })).total).toBe(13);
    expect((await alice.listKeys({ sub: 'bob', limit: 100 })).total).toBe(12);
    expect(await refusal(alice.listKeys({ sub: 'nobody' }))).toBe('USER_NOT_FOUND');
    const first = await alice.listKeys({ limit: 10 });
    expect(first.data[0].id).toBe(made[24].id); // default -created
    expect(first.next).toBe(first.data[9].id);
    expect(first.prev).toBeUndefined();
    const second = await alice.listKeys({ limit: 10, startingAfter: first.next });
    expect(second.data[0].id).toBe(made[14].id);
    const back = await alice.listKeys({ limit: 10, endingBefore: second.prev });
    expect(back.data.map((k) => k.id)).toEqual(first.data.map((k) => k.id));
    const asc = await alice.listKeys({ sort: '+description', limit: 2 });
    expect(asc.data.map((k) => k.description)).toEqual(['service 00', 'service 01']);
    await alice.revokeKey(made[0].id);
    expect((await alice.listKeys({ status: 'revoked' })).data.map((k) => k.id)).toEqual([made[0].id]);
    expect(await refusal(alice.listKeys({ sort: 'colour' as never }))).toBe('INVALID_INPUT');
    expect(await refusal(alice.listKeys({ status: 'dead' as never }))).toBe('INVALID_INPUT');
    expect(await refusal(alice.listKeys({ startingAfter: 'f'.repeat(24) }))).toBe('INVALID_INPUT');
  });

  it('refuses bad input with INVALID_INPUT and changes nothing', async () => {
    const { alice, bob } = await seededStore();
    for (const d of ['', '   ', 'x'.repeat(257), 'bell\u0007', 'esc \u001b[2J', 'rtl \u202e']) {
      expect(await refusal(bob.generateKey({ description: d }))).toBe('INVALID_INPUT');
    }
    expect(await refusal(bob.generateKey({ description: 'ok', expiry: 'P' }))).toBe('INVALID_EXPIRY');
    // An id of any shape names no key (behaviour §3).
    expect(await refusal(bob.getKey('not-an-id'))).toBe('KEY_NOT_FOUND');
    expect(await refusal(alice.addUser('bad name'))).toBe('INVALID_INPUT');
    expect(await refusal(alice.addUser('bob'))).toBe('INVALID_INPUT');
    expect(await refusal(alice.updateUser('zed', { licence: true }))).toBe('USER_NOT_FOUND');
    expect((await alice.listKeys()).total).toBe(0);
  });
});

describe('users and roles', () => {
  it('lets an admin give and take roles, including their own, but never remove the last admin', async () => {
    const { alice, bob } = await seededStore();
    expect(await refusal(alice.updateUser('alice', { admin: false }))).toBe('INVALID_INPUT');
    await alice.updateUser('bob', { admin: true });
    await bob.updateUser('alice', { admin: false });
    expect(await refusal(alice.listUsers())).toBe('ADMIN_ROLE_REQUIRED');
    expect((await bob.listUsers()).find((u) => u.id === 'alice')?.roles).toEqual(['Developer']);
    await bob.updateUser('alice', { developer: false });
    expect(await refusal(alice.generateKey({ description: 'x' }))).toBe('DEVELOPER_ROLE_REQUIRED');
    await bob.updateUser('alice', { licence: false, developer: true });
    expect(await refusal(alice.generateKey({ description: 'x' }))).toBe('LICENCE_REQUIRED');
    expect((await alice.whoami()).canGenerate).toMatchObject({ ok: false, code: 'LICENCE_REQUIRED' });
  });

  it('answers USER_NOT_FOUND for an actor the tenant does not have', async () => {
    const { engine } = await seededStore();
    expect(await refusal(engine.as('mallory').listKeys())).toBe('USER_NOT_FOUND');
  });
});

describe('events and usage', () => {
  it('records every change, newest first, filtered by type, key, user and time', async () => {
    const clock = manualClock();
    const { alice, bob } = await seededStore({ clock });
    clock.advance(60_000);
    const k = await bob.generateKey({ description: 'audited' });
    await bob.renameKey(k.id, 'audited 2');
    await alice.revokeKey(k.id);
    const all = await alice.listEvents({ limit: 100 });
    expect(all.data.slice(0, 3).map((e) => e.eventType)).toEqual(['api-key.revoked', 'api-key.renamed', 'api-key.generated']);
    expect((await alice.listEvents({ keyId: k.id })).total).toBe(3);
    expect((await alice.listEvents({ type: 'api-key.renamed' })).data[0].data).toEqual({ from: 'audited', to: 'audited 2' });
    expect((await alice.listEvents({ userId: 'bob' })).total).toBe(2);
    expect((await alice.listEvents({ since: '30s' })).total).toBe(3);
    expect(await refusal(alice.listEvents({ type: 'nope' as never }))).toBe('INVALID_INPUT');
    expect(await refusal(alice.listEvents({ since: 'yesterday' }))).toBe('INVALID_INPUT');
    expect(await refusal(bob.listEvents())).toBe('ADMIN_ROLE_REQUIRED');
  });

  it('counts uses in memory and flushes them as aggregated events; last used follows', async () => {
    const clock = manualClock();
    const { alice, bob, engine, store } = await seededStore({ clock });
    const k = await bob.generateKey({ description: 'busy' });
    const quiet = await bob.generateKey({ description: 'quiet' });
    const allEvents = async () => (await store.findEvents({ limit: 1_000_000 })).data;
    const before = (await allEvents()).length;
    for (let i = 0; i < 50; i++) {
      clock.advance(10);
      expect((await engine.verify(k.token)).valid).toBe(true);
    }
    await engine.verify(quiet.token);
    await engine.verify('kw_nonsense');
    expect((await allEvents()).length).toBe(before); // nothing written per use
    expect((await alice.usage())[0]).toMatchObject({ keyId: k.id, uses: 50 }); // pending counts show at once
    await engine.flush();
    const events = (await allEvents()).slice(0, -before);
    expect(events.map((e) => e.eventType).sort()).toEqual(['api-key.auth-failed', 'api-key.used', 'api-key.used']);
    const usage = await alice.usage();
    expect(usage.map((u) => [u.keyId, u.uses])).toEqual([
      [k.id, 50],
      [quiet.id, 1],
    ]);
    expect((await bob.getKey(k.id)).lastUsed).toBe(new Date(clock.now()).toISOString());
    expect((await alice.listEvents({ type: 'api-key.auth-failed' })).data[0].data).toMatchObject({ count: 1, reasons: { malformed: 1 } });
  });

  it('flags excessive use once per hour when a minute beats the threshold and 10× the daily average', async () => {
    const clock = manualClock(Date.parse('2026-03-01T10:00:00Z'));
    const { alice, bob, engine } = await seededStore({ clock, store: createMemoryStore() });
    await alice.updateSettings({ excessive_use_per_minute: 100 });
    const hot = await bob.generateKey({ description: 'hot' });
    const calm = await bob.generateKey({ description: 'calm' });
    for (let i = 0; i < 90; i++) await engine.verify(calm.token);
    for (let i = 0; i < 150; i++) await engine.verify(hot.token);
    await engine.flush();
    let flagged = await alice.listEvents({ type: 'api-key.excessive-use' });
    expect(flagged.data.map((e) => e.keyId)).toEqual([hot.id]);
    expect((await alice.usage()).find((u) => u.keyId === hot.id)?.excessive).toBe(true);
    clock.advance(60_000);
    for (let i = 0; i < 150; i++) await engine.verify(hot.token);
    await engine.flush();
    flagged = await alice.listEvents({ type: 'api-key.excessive-use' });
    expect(flagged.total).toBe(1); // not again within the hour
    clock.advance(3_600_000);
    for (let i = 0; i < 150; i++) await engine.verify(hot.token);
    await engine.flush();
    // 450 uses in the day average 0.31/minute: 150 in a minute is far above 10× that.
    expect((await alice.listEvents({ type: 'api-key.excessive-use' })).total).toBe(2);
  });
});

describe('store changes, for a face to redraw', () => {
  it('tells a service over a store of each change until unsubscribed; the remote service offers none', async () => {
    const { alice, bob } = await seededStore({ store: createMemoryStore() });
    let told = 0;
    const off = bob.onStoreChange!(() => told++);
    const k = await alice.generateKey({ description: 'seen by bob' });
    expect(told).toBeGreaterThan(0);
    const before = told;
    await alice.revokeKey(k.id);
    expect(told).toBeGreaterThan(before);
    off();
    const after = told;
    await alice.generateKey({ description: 'unheard' });
    expect(told).toBe(after);
    expect(createRemoteService('http://127.0.0.1:9', 'kw_x').onStoreChange).toBeUndefined();
  });

  it('a face following them is called once for a burst, and a steady stream of changes calls it about once a second, not at each change', async () => {
    const { alice, bob } = await seededStore({ store: createMemoryStore() });
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    try {
      let calls = 0;
      const follower = followStoreChanges(bob, () => calls++)!;
      for (let i = 0; i < 3; i++) await alice.generateKey({ description: `burst ${i}` });
      await vi.advanceTimersByTimeAsync(200);
      expect(calls).toBe(1);
      // A change every 100 ms for 5 s (usage flushed by busy servers): not 50 calls, nor none until it stops.
      for (let i = 0; i < 50; i++) {
        await alice.renameKey((await alice.generateKey({ description: `stream ${i}` })).id, `stream ${i} renamed`);
        await vi.advanceTimersByTimeAsync(100);
      }
      expect(calls).toBeGreaterThanOrEqual(5);
      expect(calls).toBeLessThanOrEqual(7);
      follower.dispose();
      await alice.generateKey({ description: 'after' });
      await vi.advanceTimersByTimeAsync(2000);
      expect(calls).toBeLessThanOrEqual(7);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('a store edited by hand', () => {
  it('still takes settings changes when its stored maximum lifetime is not a duration', async () => {
    const { alice, store } = await seededStore();
    await store.transact(async (tx) => {
      const tenant = (await tx.tenant())!;
      tx.putTenant({ ...tenant, settings: { ...tenant.settings, maxKeyLifetime: 'forever' } });
    });
    expect((await alice.updateSettings({ max_keys_per_user: 3 })).max_keys_per_user).toBe(3);
    expect((await alice.updateSettings({ max_api_key_expiry: '7d' })).max_api_key_expiry).toBe('P7D');
  });
});
