import { describe, expect, it } from 'vitest';
import { type KeyView, manualClock } from '@keyward/core';
import { KeyLookups } from '../src/key-lookup.js';
import { escapeMarkdown, findTokens, hoverMarkdown, judgeToken } from '../src/token-findings.js';
import { tenant } from './helpers.js';

/** The same token with one character of its secret changed: same shape, wrong checksum. */
function mistype(token: string): string {
  const i = 30;
  return token.slice(0, i) + (token[i] === 'a' ? 'b' : 'a') + token.slice(i + 1);
}

describe('finding tokens in text', () => {
  it('finds tokens by prefix and shape, with their key id when the checksum holds', async () => {
    const t = await tenant();
    const k = await t.bob.generateKey({ description: 'found' });
    const text = `url = "https://x"\nTOKEN=${k.token} # note\nother kw_${'a'.repeat(10)} ${mistype(k.token)}`;
    const found = findTokens(text);
    expect(found).toHaveLength(2);
    expect(found[0]).toEqual({ start: text.indexOf(k.token), end: text.indexOf(k.token) + k.token.length, token: k.token, keyId: k.id });
    expect(found[1].keyId).toBeUndefined();
  });

  it('does not take a token out of a longer word', async () => {
    const t = await tenant();
    const k = await t.bob.generateKey({ description: 'embedded' });
    expect(findTokens(`x${k.token}`)).toEqual([]);
    expect(findTokens(`${k.token}0`)).toEqual([]);
    expect(findTokens(`"${k.token}"`)).toHaveLength(1);
  });
});

describe('judging a token', () => {
  const NOW = Date.parse('2026-01-01T00:00:00Z');

  it('warns about revoked, expired, unknown and mistyped tokens; informs about a live one in git only', async () => {
    const clock = manualClock(NOW);
    const t = await tenant({ clock });
    const live = await t.bob.generateKey({ description: 'live' });
    const revoked = await t.bob.generateKey({ description: 'revoked' });
    const expiring = await t.bob.generateKey({ description: 'expiring', expiry: 'PT1H' });
    const deleted = await t.bob.generateKey({ description: 'deleted' });
    await t.alice.revokeKey(revoked.id);
    await t.bob.deleteKey(deleted.id);
    clock.advance(2 * 3_600_000);
    const lookups = new KeyLookups(() => t.bob);
    const judge = async (token: string, tracked: boolean) => {
      const [f] = findTokens(token);
      return judgeToken(f, f.keyId ? await lookups.lookup(f.keyId) : undefined, tracked, clock.now());
    };
    expect(await judge(live.token, false)).toBeUndefined();
    expect(await judge(live.token, true)).toMatchObject({ severity: 'information', code: 'secret-in-source' });
    expect(await judge(revoked.token, false)).toMatchObject({ severity: 'warning', code: 'revoked', message: expect.stringContaining('"revoked" was revoked') });
    expect(await judge(expiring.token, false)).toMatchObject({ severity: 'warning', code: 'expired', message: expect.stringContaining('expired 1h ago') });
    expect(await judge(deleted.token, false)).toMatchObject({ severity: 'warning', code: 'unknown' });
    expect(await judge(mistype(live.token), true)).toMatchObject({ severity: 'warning', code: 'checksum' });
  });

  it("calls another user's key unknown: it is not visible to them", async () => {
    const t = await tenant();
    const bobs = await t.bob.generateKey({ description: "bob's" });
    const [f] = findTokens(bobs.token);
    expect(judgeToken(f, await new KeyLookups(() => t.carol).lookup(f.keyId!), false, Date.now())).toMatchObject({ code: 'unknown' });
    expect(judgeToken(f, await new KeyLookups(() => t.alice).lookup(f.keyId!), true, Date.now())).toMatchObject({ code: 'secret-in-source' });
  });

  it('sees a key expire between lookups without asking again', () => {
    const key = { id: 'a'.repeat(24), description: 'd', sub: 'bob', status: 'active', expiry: '2026-01-01T01:00:00.000Z' } as KeyView;
    const f = { start: 0, end: 68, token: 't', keyId: key.id };
    expect(judgeToken(f, { kind: 'found', key }, false, NOW)).toBeUndefined();
    expect(judgeToken(f, { kind: 'found', key }, false, NOW + 2 * 3_600_000)).toMatchObject({ code: 'expired' });
  });

  it('claims nothing when the store cannot answer', () => {
    const f = { start: 0, end: 68, token: 't', keyId: 'a'.repeat(24) };
    expect(judgeToken(f, { kind: 'unavailable', reason: 'down' }, true, NOW)).toBeUndefined();
  });
});

describe('looking keys up', () => {
  it('asks once per key id until cleared, and never verifies (no use is recorded)', async () => {
    const t = await tenant();
    const k = await t.bob.generateKey({ description: 'counted' });
    let asked = 0;
    const counting = new Proxy(t.bob, {
      get(target, p, r) {
        if (p === 'getKey') asked++;
        if (p === 'verifyToken') throw new Error('the editor must not verify tokens');
        return Reflect.get(target, p, r);
      },
    });
    const lookups = new KeyLookups(() => counting);
    await lookups.lookup(k.id);
    await lookups.lookup(k.id);
    expect(asked).toBe(1);
    lookups.clear();
    await lookups.lookup(k.id);
    expect(asked).toBe(2);
    expect((await t.alice.listEvents({ type: 'api-key.used' })).data).toEqual([]);
  });

  it('is unavailable when there is no service', async () => {
    expect(await new KeyLookups(() => undefined).lookup('a'.repeat(24))).toMatchObject({ kind: 'unavailable' });
  });
});

describe('hover text', () => {
  it('shows description, owner, status, expiry and last use, with store text escaped', async () => {
    const t = await tenant();
    const k = await t.bob.generateKey({ description: 'deploy *prod* [x](http://evil)' });
    const [f] = findTokens(k.token);
    const md = hoverMarkdown(f, await new KeyLookups(() => t.bob).lookup(k.id), Date.now());
    expect(md).toContain('deploy \\*prod\\* \\[x\\]\\(http://evil\\)');
    expect(md).toContain('Owner: bob');
    expect(md).toContain('— active');
    expect(md).toMatch(/Expires: \d{4}-\d\d-\d\d \d\d:\d\d UTC \(in 30d\)/);
    expect(md).toContain('Last used: never');
    expect(md).not.toContain(k.token);
  });

  it('shows where the key was last used from', () => {
    const key = { id: 'a'.repeat(24), description: 'd', sub: 'bob', status: 'active', expiry: '2099-01-01T00:00:00.000Z', lastUsedFrom: [{ address: '203.0.113.9', lastSeen: new Date(Date.now() - 60_000).toISOString() }] } as KeyView;
    const md = hoverMarkdown({ start: 0, end: 1, token: 'x', keyId: key.id }, { kind: 'found', key }, Date.now());
    expect(md).toContain('Last used from: 203\\.0\\.113\\.9 (1m ago)');
  });

  it('says why for unknown and mistyped tokens', () => {
    expect(hoverMarkdown({ start: 0, end: 1, token: 'x' }, { kind: 'unknown' }, 0)).toContain('checksum does not match');
    expect(hoverMarkdown({ start: 0, end: 1, token: 'x', keyId: 'a'.repeat(24) }, { kind: 'unknown' }, 0)).toContain('unknown');
    expect(escapeMarkdown('a_b')).toBe('a\\_b');
  });
});
