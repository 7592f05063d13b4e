// A list page's keys as JSON texts kept per viewer and key (wire/key-texts.ts):
// at every step each text must be exactly the view listKeys gives now, as the
// store changes under it (a rename, a revoke, a use, settings, a user's
// licence) and as time passes (a key expiring with no change to the store).
import { describe, expect, it } from 'vitest';
import { type ApiKey, type Engine, type KeyQuery, type KeyService, type KeyUse, type KeyView, DEFAULT_SETTINGS, createMemoryStore, keyViewsFor, manualClock, pageText } from '../src/index.js';
import { KeyTexts } from '../src/wire/key-texts.js';
import { handingOutCopies, seededStore } from './helpers.js';

const DAY = 86_400_000;

/** The page's texts, checked against the views listKeys builds afresh. */
async function texts(engine: Engine, user: string, service: KeyService, q: KeyQuery = {}): Promise<string[]> {
  const page = await engine.keyPageTexts(user, q);
  const views = await service.listKeys(q);
  expect(page.data).toEqual(views.data.map((v) => JSON.stringify(v)));
  expect({ ...page, data: [] }).toEqual({ ...views, data: [] });
  return page.data;
}

describe.each([
  ['memory', () => createMemoryStore()],
  ['json', () => undefined],
  ['copying', () => handingOutCopies(createMemoryStore(), ['tenant', 'getUser', 'listUsers', 'getKey', 'findKeys', 'lastUsedOf'])],
])('key list texts on a %s store', (_name, store) => {
  it('are the views of the moment at every step: per viewer, renamed, used, revoked, expired, settings, licence', async () => {
    const clock = manualClock();
    const { engine, alice, bob } = await seededStore({ store: store(), clock });
    const short = await bob.generateKey({ description: 'short', expiry: '1d' });
    const long = await bob.generateKey({ description: 'long', expiry: '30d' });
    const third = await bob.generateKey({ description: 'third' });
    const of = async (user: string, service: KeyService, id: string, q: KeyQuery = {}) => {
      const text = (await texts(engine, user, service, q)).find((t) => JSON.parse(t).id === id);
      expect(text).toBeDefined();
      return text!;
    };
    const shortText = await of('bob', bob, short.id);
    const longText = await of('bob', bob, long.id);
    expect(await of('bob', bob, short.id)).toBe(shortText);
    expect(JSON.parse(shortText).actions).toEqual({ rename: true, delete: true, revoke: false, rotate: true });
    // The same key for another viewer carries that viewer's actions.
    expect(JSON.parse(await of('alice', alice, short.id, { sub: 'bob' })).actions).toEqual({ rename: false, delete: false, revoke: true, rotate: false });

    await bob.renameKey(long.id, 'renamed');
    expect(await of('bob', bob, short.id)).toBe(shortText);
    const renamed = await of('bob', bob, long.id);
    expect(renamed).not.toBe(longText);
    expect(JSON.parse(renamed).description).toBe('renamed');

    await engine.verify(short.token, '10.0.0.1'); // not flushed: this process's own count
    expect(JSON.parse(await of('bob', bob, short.id)).lastUsed).toBe(new Date(clock.now()).toISOString());
    clock.advance(1000);
    await engine.flush();
    await engine.verify(short.token, '10.0.0.2');
    expect(JSON.parse(await of('bob', bob, short.id)).lastUsedFrom.map((a: { address: string }) => a.address)).toEqual(['10.0.0.2', '10.0.0.1']);

    clock.advance(2 * DAY); // the short key expired: nothing changed in the store
    expect(JSON.parse(await of('bob', bob, short.id))).toMatchObject({ status: 'expired', actions: { rotate: false } });
    expect(await of('bob', bob, long.id)).toBe(renamed);

    await alice.revokeKey(long.id);
    expect(JSON.parse(await of('bob', bob, long.id)).status).toBe('revoked');
    expect(JSON.parse(await of('alice', alice, long.id, { sub: 'bob' })).actions.revoke).toBe(false);

    const before = await of('bob', bob, third.id);
    expect(JSON.parse(before).actions.rotate).toBe(true);
    await alice.updateSettings({ api_keys_enabled: false }); // rotating asks generating's rules
    expect(JSON.parse(await of('bob', bob, third.id)).actions.rotate).toBe(false);
    await alice.updateSettings({ api_keys_enabled: true });
    expect(await of('bob', bob, third.id)).toBe(before);
    await alice.updateUser('bob', { licence: false });
    expect(JSON.parse(await of('bob', bob, third.id)).actions.rotate).toBe(false);
    await engine.close();
  });

  it('make a verify answer the bytes JSON.stringify gives verifyToken’s: per asking user, used, revoked, expired, refused', async () => {
    const clock = manualClock();
    const { engine, alice, bob } = await seededStore({ store: store(), clock });
    const key = await bob.generateKey({ description: 'verified', expiry: '1d' });
    const same = async (user: string, service: KeyService, token: string, address?: string) => {
      const text = await engine.verifyTokenText(user, token, address);
      expect(text).toBe(JSON.stringify(await service.verifyToken(token, address)));
      return text;
    };
    const first = await same('alice', alice, key.token);
    expect(JSON.parse(first)).toMatchObject({ valid: true, key: { id: key.id } });
    // Another asking user sees their own actions on it.
    expect(await same('bob', bob, key.token)).not.toBe(first);
    // Used from an address, flushed: the answer carries its last use.
    await same('alice', alice, key.token, '203.0.113.7');
    await engine.flush();
    expect(JSON.parse(await same('alice', alice, key.token)).key.lastUsedFrom).toEqual(expect.arrayContaining([expect.objectContaining({ address: '203.0.113.7' })]));
    await same('alice', alice, 'kw_not_a_token');
    await expect(engine.verifyTokenText('alice', key.token, 'not an address')).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    clock.advance(2 * DAY);
    expect(JSON.parse(await same('alice', alice, key.token)).valid).toBe(false);
    const other = await bob.generateKey({ description: 'revoked' });
    await same('alice', alice, other.token);
    await alice.revokeKey(other.id);
    expect(JSON.parse(await same('alice', alice, other.token)).valid).toBe(false);
  });
});

describe('a page from its rows’ texts', () => {
  it('is the bytes JSON.stringify gives the whole page', () => {
    const rows = [{ id: 'a', description: 'quote " and \u2028 and é' }, { id: 'b', n: 1 }];
    const rest = { links: { self: { href: '/api/v1/api-keys?limit=2' }, next: { href: '/api/v1/api-keys?limit=2&startingAfter=b' } }, meta: { total: 7 } };
    expect(pageText(rows.map((r) => JSON.stringify(r)), rest)).toBe(JSON.stringify({ data: rows, ...rest }));
    expect(pageText([], { links: rest.links, meta: { total: 0 } })).toBe(JSON.stringify({ data: [], links: rest.links, meta: { total: 0 } }));
  });
});

describe('a key text made again for a new use alone', () => {
  it('is the bytes JSON.stringify gives the view, without building the view again', () => {
    const now = Date.parse('2026-12-02T12:00:00.000Z');
    const tenant = { id: 't1', name: 'acme', created: '2026-01-01T00:00:00.000Z', settings: { ...DEFAULT_SETTINGS, apiKeysEnabled: true } };
    const actor = { id: 'bob', licence: true, roles: ['Developer' as const], created: '2026-01-01T00:00:00.000Z' };
    const viewer = { actor, tenant, now };
    const views = keyViewsFor(viewer);
    let built = 0;
    const viewOf = (key: ApiKey, use?: KeyUse): KeyView => {
      built++;
      return views(key, use);
    };
    const keys: ApiKey[] = [
      // Text that looks like the fields the text is cut around, and characters JSON escapes.
      { id: '0123456789abcdef01234567', description: 'a "lastUsedFrom":[] and ,"lastUsed":"x"} \\ \u2028 é', owner: 'bob', createdBy: 'bob', created: '2026-11-01T00:00:00.000Z', lastUpdated: '2026-11-01T00:00:00.000Z', expiry: '2027-11-01T00:00:00.000Z', hash: 'h1' },
      // Rotations come after lastUsed.
      { id: '89abcdef0123456789abcdef', description: 'rotated', owner: 'bob', createdBy: 'bob', created: '2026-11-01T00:00:00.000Z', lastUpdated: '2026-11-02T00:00:00.000Z', expiry: '2027-11-01T00:00:00.000Z', hash: 'h2', rotatedFrom: 'fedcba9876543210fedcba98', rotatedTo: '00112233445566778899aabb' },
    ];
    const texts = new KeyTexts();
    for (const key of keys) {
      const uses: (KeyUse | undefined)[] = [undefined, { lastUsed: now - 5000, lastUsedFrom: [] }, { lastUsed: now - 4000, lastUsedFrom: [{ address: '10.0.0.1', lastSeen: now - 4000 }] }];
      // Seven addresses, out of order: the view keeps the newest five, newest first.
      for (let i = 0; i < 7; i++) uses.push({ lastUsed: now - 3000 + i, lastUsedFrom: [0, 1, 2, 3, 4, 5, 6].map((a) => ({ address: `10.0.0.${(a * 3) % 7}`, lastSeen: now - 3000 + ((a * 5) % 7) + i })) });
      built = 0;
      for (const use of uses) expect(texts.text(key, viewer, use, viewOf)).toBe(JSON.stringify(views(key, use)));
      // Built whole: the first text, and the first with a lastUsed (where it goes is learned from a view that has one).
      expect(built).toBe(2);
    }
    // Anything else changed is made whole again: another status.
    const later = { ...viewer, now: Date.parse('2028-01-01T00:00:00.000Z') };
    const use = { lastUsed: now, lastUsedFrom: [] };
    const laterViews = keyViewsFor(later);
    built = 0;
    expect(texts.text(keys[0], later, use, (key, u) => (built++, laterViews(key, u)))).toBe(JSON.stringify(laterViews(keys[0], use)));
    expect(built).toBe(1);
  });
});
