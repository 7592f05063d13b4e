// GET /users/me's text is made once and kept while what it is made of stays
// the same (wire/me-text.ts): at every step it must be exactly whoami's body,
// as the time passes (a key expiring) and as the store changes under it.
import { describe, expect, it } from 'vitest';
import { type Engine, type KeyService, createMemoryStore, manualClock, meBody } from '../src/index.js';
import { whoamiFrom } from '../src/use-cases/settings.js';
import { MeTexts } from '../src/wire/me-text.js';
import { handingOutCopies, seededStore } from './helpers.js';

const DAY = 86_400_000;

async function same(engine: Engine, user: string, service: KeyService): Promise<string> {
  const text = await engine.meText(user);
  expect(text).toBe(JSON.stringify(meBody(await service.whoami())));
  return text;
}

const STORES = [
  ['memory', () => createMemoryStore()],
  ['json', () => undefined],
  ['copying', () => handingOutCopies(createMemoryStore())],
] as const;

describe.each(STORES)('GET /users/me text on a %s store', (_name, store) => {
  it('is whoami’s body at every step: a key generated and expired, a licence taken, settings, a second admin', async () => {
    const clock = manualClock();
    const { engine, alice, bob } = await seededStore({ store: store(), clock, maxKeys: 1 });
    const first = await same(engine, 'bob', bob);
    expect(await engine.meText('bob')).toBe(first);

    await bob.generateKey({ description: 'ci', expiry: '1d' });
    const limited = await same(engine, 'bob', bob);
    expect(JSON.parse(limited).canGenerate.code).toBe('KEY_LIMIT_REACHED');

    clock.advance(2 * DAY); // the key expired: no change to the store, yet bob may generate again
    expect(JSON.parse(await same(engine, 'bob', bob)).canGenerate).toEqual({ ok: true });

    await alice.updateUser('bob', { licence: false });
    expect(JSON.parse(await same(engine, 'bob', bob)).licence).toBe(false);

    await alice.updateSettings({ max_keys_per_user: 5 });
    expect(JSON.parse(await same(engine, 'alice', alice)).settings.max_keys_per_user).toBe(5);

    const aliceAlone = await same(engine, 'alice', alice);
    await alice.updateUser('carol', { admin: true }); // alice is no longer the last admin: she may step down
    expect(await same(engine, 'alice', alice)).not.toBe(aliceAlone);
    await engine.close();
  });
});

describe.each(STORES)('GET /users/me text on a %s store is made once per change', (_name, makeStore) => {
  it('is made again only when the tenant, the user, whether the active-key count lets the user generate (the count itself at the limit) or the admin count changed', async () => {
    const clock = manualClock();
    const { store, engine, alice, bob } = await seededStore({ store: makeStore(), clock });
    // What the engine reads for each request (whoamiReads), read the same way from the store.
    const reads = async (user: string, admins = 0) => ({ tenant: (await store.tenant())!, actor: (await store.getUser(user))!, activeKeys: await store.countActiveKeys(user, clock.now()), admins });
    const texts = new MeTexts();
    let made = 0;
    const text = async (user: string, admins?: number) => {
      const r = await reads(user, admins);
      return texts.text(r, () => {
        made++;
        return whoamiFrom(r, store.location);
      });
    };
    const first = await text('bob');
    expect(made).toBe(1);
    expect(await text('bob')).toBe(first); // the same records again (or equal copies): kept
    expect(await text('bob')).toBe(first);
    expect(made).toBe(1);

    await bob.generateKey({ description: 'ci' });
    expect(await text('bob')).toBe(first);
    expect(made).toBe(1); // one more active key, under the limit: the same answer (canGenerate ok)
    await alice.updateSettings({ max_keys_per_user: 2 });
    await text('bob');
    expect(made).toBe(2); // the tenant changed
    await bob.generateKey({ description: 'the second, the limit' });
    const limited = await text('bob');
    expect(made).toBe(3); // at the limit: refused, the count named
    expect(JSON.parse(limited).canGenerate).toMatchObject({ ok: false, code: 'KEY_LIMIT_REACHED' });
    await alice.updateSettings({ max_keys_per_user: 7 });
    await text('bob');
    expect(made).toBe(4); // the tenant changed
    await alice.updateUser('bob', { licence: false });
    await text('bob');
    expect(made).toBe(5); // the user changed
    await text('alice', 1);
    await text('alice', 2);
    expect(made).toBe(7); // another user; then the admin count
    expect(await text('bob')).not.toBe(first);
    await text('alice', 2);
    expect(made).toBe(7); // each user's text kept beside the others'
    await engine.close();
  });
});
