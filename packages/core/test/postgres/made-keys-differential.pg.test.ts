// Keys made on two servers, in random order, with created times that tie,
// go back (a server whose clock is behind) and ids in any order: after each
// change has been heard, every count and first page each server answers
// (from what it keeps, with made keys added: made-keys.ts) is the answer the
// database gives a server that keeps nothing.
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import type { ApiKey, Tenant, User } from '../../src/domain.js';
import { DEFAULT_SETTINGS } from '../../src/domain.js';
import type { KeyFind, StoreChange } from '../../src/store/boundary.js';
import { createPostgresStore, type PostgresStore } from '../../src/store/postgres/store.js';
import { createTestDatabase } from '../../../../test/support/postgres.js';
import { timedHere } from '../child.js';

const T0 = Date.parse('2026-03-01T12:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();
const tenant = (): Tenant => ({ id: 't1', name: 'acme', created: iso(T0), settings: { ...DEFAULT_SETTINGS, apiKeysEnabled: true } });
const user = (id: string): User => ({ id, licence: true, roles: ['Developer'], created: iso(T0) });

// A small random source with a fixed seed: a failure can be run again.
function random(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

const stores: PostgresStore[] = [];
afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()));
});

describe('made keys on two servers', () => {
  // Both servers are this test's own process, run as a timed child runs (child.ts timedHere): at the
  // usual priority, on a machine at load 15-26, its event loop waited for a CPU 595-690 ms at a time
  // (runnable, 5-14 ms run, by /proc/thread-self/schedstat) while its heartbeats' answers waited in
  // the sockets; the timer that drops a listening connection unconfirmed for 700 ms ran first
  // (changes.ts), the servers heard `all` instead of the keys made meanwhile, and the wait below for
  // each key to be heard ran out: 4 failures in 10 runs of this file alone, each after such a drop.
  it('leave every kept count and first page equal to the database’s answer', () => timedHere(async () => {
    const d = await createTestDatabase();
    afterAll(() => d.drop());
    const open = () => {
      const s = createPostgresStore(d.url);
      stores.push(s);
      return s;
    };
    const [a, b, oracle] = [open(), open(), open()];
    expect(await a.create({ tenant: tenant(), users: [user('alice'), user('bob'), user('carol')], events: [] })).toBe(true);
    const heard = new Map<PostgresStore, Set<string>>([
      [a, new Set()],
      [b, new Set()],
    ]);
    for (const [s, ids] of heard) s.onChange((c: StoreChange) => c.keyIds?.forEach((id) => ids.add(id)));
    await expect.poll(() => a.listening && b.listening, { timeout: 5000 }).toBe(true);
    const rnd = random(20260302);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const owners = ['bob', 'carol'];
    const questions: KeyFind[] = [];
    for (const owner of [...owners, undefined]) for (const descending of [false, true]) for (const limit of [1, 3, 5]) questions.push({ owner, order: 'created', descending, limit, now: T0 });
    const answers = async (s: PostgresStore) => ({
      pages: await Promise.all(questions.map(async (q) => {
        const p = await s.findKeys(q);
        return { ids: p.data.map((k) => k.id), total: p.total, hasNext: p.hasNext, hasPrev: p.hasPrev };
      })),
      counts: await Promise.all(owners.map((o) => s.countActiveKeys(o, T0))),
    });
    const created: number[] = [];
    for (let step = 0; step < 60; step++) {
      const by = pick([a, b]);
      const made: ApiKey[] = [];
      for (let i = 0, n = rnd() < 0.2 ? 2 : 1; i < n; i++) {
        // Mostly newer than any so far; sometimes the same time as an earlier key, sometimes older.
        const r = rnd();
        const at = created.length === 0 || r < 0.6 ? T0 + 1000 * (created.length + 1) : r < 0.8 ? pick(created) : pick(created) - 500;
        created.push(at);
        const owner = pick(owners);
        made.push({ id: randomBytes(12).toString('hex'), description: `k${step}.${i}`, owner, createdBy: owner, created: iso(at), lastUpdated: iso(at), expiry: iso(T0 + 86_400_000), hash: 'h'.repeat(64) });
      }
      await by.transact(async (tx) => {
        for (const k of made) expect(await tx.getKey(k.id)).toBeUndefined();
        for (const k of made) tx.putKey(k);
      });
      await expect.poll(() => [a, b].every((s) => made.every((k) => heard.get(s)!.has(k.id))), { timeout: 2000, interval: 5 }).toBe(true);
      const truth = await answers(oracle);
      expect(await answers(a), `server a after step ${step}`).toEqual(truth);
      expect(await answers(b), `server b after step ${step}`).toEqual(truth);
    }
  }), 120_000);
});
