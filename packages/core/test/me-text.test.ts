// GET /users/me's text is made once and kept while what it is made of stays
// the same (wire/me-text.ts): at every step it must be exactly whoami's body,
// as the time passes (a key expiring) and as the store changes under it.
import { describe, expect, it } from 'vitest';
import { type Engine, type KeyService, type Store, createMemoryStore, manualClock, meBody } from '../src/index.js';
import { seededStore } from './helpers.js';

const DAY = 86_400_000;

/** A store that hands out copies of its tenant and users, as PostgreSQL's record cache does. */
function handingOutCopies(store: Store): Store {
  const copied = new Set<PropertyKey>(['tenant', 'getUser', 'listUsers']);
  return new Proxy(store, {
    get(target, p) {
      const v = Reflect.get(target, p, target) as unknown;
      if (typeof v !== 'function') return v;
      if (copied.has(p)) return async (...args: unknown[]) => structuredClone(await (v as (...a: unknown[]) => Promise<unknown>).apply(target, args));
      return (v as (...a: unknown[]) => unknown).bind(target);
    },
  });
}

async function same(engine: Engine, user: string, service: KeyService): Promise<string> {
  const text = await engine.meText(user);
  expect(text).toBe(JSON.stringify(meBody(await service.whoami())));
  return text;
}

describe.each([
  ['memory', () => createMemoryStore()],
  ['json', () => undefined],
  ['copying', () => handingOutCopies(createMemoryStore())],
])('GET /users/me text on a %s store', (_name, store) => {
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
