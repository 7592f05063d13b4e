// How creates sent whole are put together (store/postgres/whole-batches.ts),
// with the statement faked: the first goes at once, those asked while it is
// out go together in the next, one that expects otherwise of a record waits
// for the one after; where creates overlap, a lone one waits for company; a
// statement refused with several in it sends each again alone; one held up
// holds the queue back only for a moment. And what one
// statement for several carries: every expectation, users locked in one
// order, keys and events in order, one change naming them all.
import { describe, expect, it } from 'vitest';
import type { ApiKey, KeywardEvent } from '../../src/domain.js';
import { Expectations } from '../../src/store/postgres/expectations.js';
import { type Whole, type WholeFate, WholeBatches, merged } from '../../src/store/postgres/whole-batches.js';

/** A create for `owner` by `actor`, its count seen as `n`. */
function whole(owner: string, { actor = owner, n = 1 } = {}): Whole {
  const expected = new Expectations();
  expected.tenant = { value: undefined };
  expected.lock(actor);
  expected.users.set(actor, undefined);
  expected.lock(owner);
  expected.counts.set(owner, { n, at: 0 });
  const id = `${owner}-key-${Math.random()}`;
  expected.absentKeys.add(id);
  const key = { id, owner } as ApiKey;
  return { expected, keys: [key], events: [{ id: `${id}-event` } as KeywardEvent], change: { keyIds: [id], keyOwners: [owner], made: [key] } };
}

/** A fake statement: records what each carried (its owners), answered when told. */
function statements(answer: (owners: string[]) => WholeFate | 'hold' = () => 'committed') {
  const sent: string[][] = [];
  const held: (() => void)[] = [];
  const batches = new WholeBatches(async (w) => {
    const owners = w.keys.map((k) => k.owner);
    sent.push(owners);
    const fate = answer(owners);
    if (fate !== 'hold') {
      await new Promise((r) => setTimeout(r, 5));
      return fate;
    }
    await new Promise<void>((r) => held.push(r));
    return 'committed';
  });
  return { batches, sent, held };
}

describe('creates sent whole, put together', () => {
  it('the first goes at once; those asked while it is out go together in the next; one expecting another count of an owner waits for the one after', async () => {
    const { batches, sent } = statements();
    const fates = await Promise.all([whole('alice'), whole('bob'), whole('carol'), whole('bob', { actor: 'alice', n: 2 })].map((w) => batches.submit(w)));
    expect(fates).toEqual(Array(4).fill('committed'));
    expect(sent).toEqual([['alice'], ['bob', 'carol'], ['bob']]);
  });

  it.each(['changed since seen', 'not written'] as const)('a statement of several refused (%s): each goes again alone, and is answered as it is', async (refused) => {
    const { batches, sent } = statements((owners) => (owners.includes('carol') ? refused : 'committed'));
    const fates = await Promise.all(['alice', 'bob', 'carol'].map((o) => batches.submit(whole(o))));
    expect(fates).toEqual(['committed', 'committed', refused]);
    expect(sent).toEqual([['alice'], ['bob', 'carol'], ['bob'], ['carol']]);
  });

  it('a statement held up (at a lock) holds those queued behind it back only for a moment', async () => {
    const { batches, sent, held } = statements((owners) => (owners.includes('bob') ? 'hold' : 'committed'));
    const bob = batches.submit(whole('bob'));
    const others = Promise.all(['alice', 'carol'].map((o) => batches.submit(whole(o))));
    expect(await others).toEqual(['committed', 'committed']);
    expect(sent).toEqual([['bob'], ['alice', 'carol']]);
    held[0]();
    expect(await bob).toBe('committed');
  });

  it('where creates have overlapped, a lone create waits for others to share its statement; creates one after another never wait', async () => {
    const { batches, sent } = statements();
    // One client's creates, one after another: each goes at once, and the next one asked goes on its own.
    for (const o of ['a', 'b', 'c', 'd']) await batches.submit(whole(o));
    await Promise.all([batches.submit(whole('alone')), batches.submit(whole('behind'))]);
    expect(sent.slice(-2)).toEqual([['alone'], ['behind']]);
    // Many clients' creates at once: most overlap another. From then on a lone create waits for the next.
    const owners = Array.from({ length: 10 }, (_, i) => `client${i}`);
    await Promise.all(owners.map((o) => batches.submit(whole(o))));
    expect(sent.slice(-2)).toEqual([['client0'], owners.slice(1)]);
    expect(await Promise.all([batches.submit(whole('first')), batches.submit(whole('joins'))])).toEqual(['committed', 'committed']);
    expect(sent.at(-1)).toEqual(['first', 'joins']);
  });

  it('a statement that fails fails every create in it', async () => {
    const failing = new WholeBatches(async () => {
      await new Promise((r) => setTimeout(r, 5));
      throw new Error('connection lost');
    });
    const answers = await Promise.all(['alice', 'bob', 'carol'].map((o) => failing.submit(whole(o)).catch((e: Error) => e.message)));
    expect(answers).toEqual(Array(3).fill('connection lost'));
  });

  it('one statement for several carries every expectation, the users locked in one order, the keys and events in order, one change naming all', () => {
    const parts = [whole('carol'), whole('bob', { actor: 'alice' })];
    const one = merged(parts);
    expect(one.expected.locked).toEqual(['alice', 'bob', 'carol']);
    expect([...one.expected.counts.keys()]).toEqual(['carol', 'bob']);
    expect([...one.expected.users.keys()]).toEqual(['carol', 'alice']);
    expect([...one.expected.absentKeys]).toEqual(parts.flatMap((p) => [...p.expected.absentKeys]));
    expect(one.expected.tenant).toEqual({ value: undefined });
    expect(one.keys).toEqual(parts.flatMap((p) => p.keys));
    expect(one.events).toEqual(parts.flatMap((p) => p.events));
    expect(one.change).toEqual({ keyIds: parts.flatMap((p) => p.keys.map((k) => k.id)), keyOwners: ['carol', 'bob'], made: parts.flatMap((p) => p.keys) });
  });
});
