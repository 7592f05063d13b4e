// Creates that queue behind one of the same actor and owner go together in
// one transaction (use-cases/create-batches.ts), each still checked against
// the key limit with the ones before it counted and answered on its own.

import { afterEach, describe, expect, it, vi } from 'vitest';
import { createEngine, createJsonFileStore, createMemoryStore, type Store } from '../src/index.js';
import { JournalFile } from '../src/store/json/journal-file.js';
import { Batches } from '../src/use-cases/create-batches.js';
import { seededStore, tempStorePath } from './helpers.js';

/** The store, counting its transactions. */
function countingTransactions(store: Store): { store: Store; transactions: () => number } {
  let n = 0;
  const transact = store.transact.bind(store);
  store.transact = (fn) => {
    n++;
    return transact(fn);
  };
  return { store, transactions: () => n };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('creates that queue go together', () => {
  it('twenty creates at once for one user: two transactions for them (a third for another user’s), the limit held to the key, each answered on its own', async () => {
    const counted = countingTransactions(createMemoryStore());
    const { engine, bob, carol, alice } = await seededStore({ store: counted.store, maxKeys: 12 });
    await bob.generateKey({ description: 'already there' });
    const before = counted.transactions();
    const [mine, hers] = await Promise.all([
      Promise.allSettled(Array.from({ length: 20 }, (_, i) => bob.generateKey({ description: `burst ${i}`, expiry: i % 2 ? 'P1D' : undefined }))),
      Promise.allSettled([carol.generateKey({ description: 'carol alone' })]),
    ]);
    // Bob's first went alone, the 19 that queued behind it together; carol's is a group of its own.
    expect(counted.transactions() - before).toBe(3);
    const made = mine.filter((r) => r.status === 'fulfilled').map((r) => r.value);
    const refused = mine.filter((r) => r.status === 'rejected').map((r) => (r.reason as { code?: string }).code);
    expect(made).toHaveLength(11);
    expect(refused).toEqual(Array(9).fill('KEY_LIMIT_REACHED'));
    // The first eleven asked are the ones made, each with its own description, expiry and token.
    expect(made.map((k) => k.description)).toEqual(Array.from({ length: 11 }, (_, i) => `burst ${i}`));
    expect(new Set(made.map((k) => k.id)).size).toBe(11);
    for (const k of made) expect((await engine.verify(k.token)).valid).toBe(true);
    expect(hers[0].status).toBe('fulfilled');
    expect((await bob.listKeys({ status: 'active' })).total).toBe(12);
    const generated = await alice.listEvents({ type: 'api-key.generated', limit: 100 });
    expect(generated.data.filter((e) => e.userId === 'bob')).toHaveLength(12);
  });

  it('on a JSON store (transactions decided in turn), twenty creates at once for one user wait for no commit: one transaction each, all in one journal record, the limit held to the key', async () => {
    const counted = countingTransactions(createJsonFileStore(tempStorePath()));
    const { engine, bob } = await seededStore({ store: counted.store, maxKeys: 12 });
    try {
      await bob.generateKey({ description: 'already there' });
      const before = counted.transactions();
      const appends = vi.spyOn(JournalFile.prototype, 'append');
      const mine = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => bob.generateKey({ description: `burst ${i}` })));
      // Batched, the first went alone and the 19 behind it waited for its commit: two records.
      expect(appends).toHaveBeenCalledTimes(1);
      expect(counted.transactions() - before).toBe(20);
      const made = mine.filter((r) => r.status === 'fulfilled').map((r) => r.value);
      expect(made.map((k) => k.description)).toEqual(Array.from({ length: 11 }, (_, i) => `burst ${i}`));
      expect(mine.filter((r) => r.status === 'rejected').map((r) => (r.reason as { code?: string }).code)).toEqual(Array(9).fill('KEY_LIMIT_REACHED'));
      for (const k of made) expect((await engine.verify(k.token)).valid).toBe(true);
      expect((await bob.listKeys({ status: 'active' })).total).toBe(12);
    } finally {
      await engine.close();
    }
  });

  it('one refused for its own input (a lifetime past the maximum) does not stop the others', async () => {
    const { bob, alice } = await seededStore({ store: createMemoryStore() });
    await alice.updateSettings({ max_api_key_expiry: 'P30D' });
    const out = await Promise.allSettled([bob.generateKey({ description: 'first' }), bob.generateKey({ description: 'too long', expiry: 'P90D' }), bob.generateKey({ description: 'fine' })]);
    expect(out.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((out[1] as PromiseRejectedResult).reason).toMatchObject({ message: expect.stringMatching(/P90D is longer/) });
  });

  it('a commit that throws refuses every create of its batch, and the next batch goes on', async () => {
    const batches = new Batches<number, number>();
    let calls = 0;
    const commit = async (inputs: number[]) => {
      calls++;
      if (calls === 2) throw new Error('database gone');
      return inputs.map((i) => (i === 7 ? new Error('seven refused') : i * 10));
    };
    const first = batches.submit('g', 1, commit);
    const queued = [batches.submit('g', 2, commit), batches.submit('g', 3, commit)];
    await expect(first).resolves.toBe(10);
    await expect(Promise.allSettled(queued)).resolves.toEqual([
      { status: 'rejected', reason: new Error('database gone') },
      { status: 'rejected', reason: new Error('database gone') },
    ]);
    const again = [batches.submit('g', 7, commit), batches.submit('g', 8, commit)];
    await expect(Promise.allSettled(again)).resolves.toEqual([
      { status: 'rejected', reason: new Error('seven refused') },
      { status: 'fulfilled', value: 80 },
    ]);
  });

  it('on one JSON store opened by two handles (two servers), bursts of one user’s creates through both are held to the limit together', async () => {
    const path = tempStorePath();
    const { store, engine, clock } = await seededStore({ store: createJsonFileStore(path), maxKeys: 7 });
    const other = createEngine(createJsonFileStore(path), { clock, usageFlushMs: 0 });
    try {
      const burst = (e: typeof engine, server: string) =>
        Array.from({ length: 10 }, (_, i) => e.as('bob').generateKey({ description: `${server} ${i}` }).then((k) => k, (x: { code?: string }) => x.code));
      const answers = await Promise.all([...burst(engine, 'one'), ...burst(other, 'two')]);
      const made = answers.filter((a): a is Exclude<typeof a, string | undefined> => typeof a === 'object');
      expect(made).toHaveLength(7);
      expect(answers.filter((a) => typeof a !== 'object')).toEqual(Array(13).fill('KEY_LIMIT_REACHED'));
      expect(new Set(made.map((k) => k.token)).size).toBe(7);
      const stored = await store.findKeys({ owner: 'bob', limit: 100, now: clock.now() });
      expect(new Map(stored.data.map((k) => [k.id, k.description]))).toEqual(new Map(made.map((k) => [k.id, k.description])));
    } finally {
      await Promise.all([engine.close(), other.close()]);
    }
  });
});
