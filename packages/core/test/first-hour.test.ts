// Short key ids and removing a user (issue 13), in the engine: a prefix of 6
// or more characters names the one key it starts, among the keys the actor
// may see; an ambiguous one is refused naming the candidates. Removing a user
// revokes their active keys, then removes them, in one transaction.
import { describe, expect, it } from 'vitest';
import { createMemoryStore, hashToken, newToken } from '../src/index.js';
import { refusalError, seededStore } from './helpers.js';


describe('short key ids', () => {
  it('resolves an unambiguous prefix, refuses an ambiguous one naming the candidates, and hides keys the actor may not see', async () => {
    const t = await seededStore({ store: createMemoryStore() });
    const mine = await t.bob.generateKey({ description: 'mine' });
    expect(await t.bob.resolveKeyId(mine.id.slice(0, 6))).toBe(mine.id);
    expect(await t.bob.resolveKeyId(mine.id.slice(0, 8).toUpperCase())).toBe(mine.id);
    expect(await t.bob.resolveKeyId(mine.id)).toBe(mine.id);

    // Two keys whose ids share their first 8 characters, written as the engine would.
    const now = new Date().toISOString();
    const later = new Date(Date.now() + 86_400_000).toISOString();
    const ids = ['abcdef12' + '0'.repeat(16), 'abcdef12' + 'f'.repeat(16)];
    await t.store.transact((tx) => {
      for (const [i, id] of ids.entries()) {
        tx.putKey({ id, description: `twin ${i}`, owner: i === 0 ? 'bob' : 'carol', createdBy: 'x', created: now, lastUpdated: now, expiry: later, hash: hashToken(newToken(id)) });
      }
    });
    const ambiguous = await refusalError(t.alice.resolveKeyId('abcdef'));
    expect(ambiguous.code).toBe('INVALID_INPUT');
    expect(ambiguous.message).toBe(`The key id prefix abcdef is ambiguous: ${ids[0]}, ${ids[1]} all start with it; give more of the id.`);
    expect(await t.alice.resolveKeyId('abcdef12f')).toBe(ids[1]);
    // bob sees only his twin: for him the prefix is not ambiguous, and carol's key is not named.
    expect(await t.bob.resolveKeyId('abcdef')).toBe(ids[0]);
    expect((await refusalError(t.bob.resolveKeyId('abcdef12f'))).code).toBe('KEY_NOT_FOUND');

    expect((await refusalError(t.alice.resolveKeyId('abc12'))).code).toBe('INVALID_INPUT');
    for (const none of ['not-hex!', '', 'a'.repeat(25)]) expect((await refusalError(t.alice.resolveKeyId(none))).code).toBe('KEY_NOT_FOUND');
    expect((await refusalError(t.alice.resolveKeyId('0123456789'))).code).toBe('KEY_NOT_FOUND');
  });
});

describe('removing a user', () => {
  it('revokes their active keys, removes them, records user.removed, and never removes the last admin', async () => {
    const t = await seededStore({ store: createMemoryStore() });
    const a = await t.bob.generateKey({ description: 'a' });
    const b = await t.bob.generateKey({ description: 'b' });
    await t.alice.revokeKey(b.id);
    const r = await t.alice.removeUser('bob');
    expect(r.user.name).toBe('bob');
    expect(r.revoked.map((k) => k.id)).toEqual([a.id]);
    expect((await t.alice.getKey(a.id)).status).toBe('revoked');
    expect((await t.alice.listUsers()).map((u) => u.name)).toEqual(['alice', 'carol']);
    expect((await t.engine.verify(a.token)).valid).toBe(false);
    const events = (await t.alice.listEvents({ type: 'user.removed' })).data;
    expect(events).toEqual([expect.objectContaining({ eventType: 'user.removed', userId: 'alice', data: expect.objectContaining({ user: 'bob', revokedKeys: [a.id] }) })]);

    expect((await refusalError(t.alice.removeUser('bob'))).code).toBe('USER_NOT_FOUND');
    expect((await refusalError(t.carol.removeUser('alice'))).code).toBe('ADMIN_ROLE_REQUIRED');
    const last = await refusalError(t.alice.removeUser('alice'));
    expect([last.code, last.message]).toEqual(['INVALID_INPUT', "alice is the tenant's only admin; make someone else an admin before removing them."]);
    await t.alice.updateUser('carol', { admin: true });
    await t.carol.removeUser('alice');
    expect((await t.carol.listUsers()).map((u) => u.name)).toEqual(['carol']);
  });
});
