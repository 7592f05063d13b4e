// Two bulk revokes at once, by two admins (one admin's changes wait for
// each other at the admin's row), naming the same owners', or the same, keys
// in opposite orders, and two leak reports of the same tokens so: each locks
// the keys it reads, and each owner's row of key counts as it writes
// (count_keys, on every update since migration 9), in one order whatever
// the order named — so neither waits for the other while holding what the
// other waits for, and PostgreSQL aborts neither for a deadlock (counted
// here: its refusals, 40P01, that the store would retry). The waits are made certain by another session holding the first
// lock both want, let go once both wait. On a real PostgreSQL.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine.js';
import { reportLeaks } from '../../src/leaks.js';
import { createPostgresStore } from '../../src/store/postgres/store.js';
import type { TestDatabase } from '../../../../test/support/postgres.js';
import { seededDatabase, waitingAtLocks } from './seeded-database.js';
import { seeingTheStatements } from './statements-sent.js';

let db: TestDatabase;
let admin: pg.Client;
let drop: () => Promise<void>;
beforeAll(async () => {
  ({ db, admin, drop } = await seededDatabase());
  const engine = createEngine(createPostgresStore(db.url), { usageFlushMs: 0 });
  await engine.as('alice').addUser('dave', { licence: true });
  await engine.as('alice').updateUser('dave', { admin: true });
  await engine.close();
});
afterAll(() => drop());

const waiting = () => waitingAtLocks(admin);

/** `run`, with the deadlocks PostgreSQL reported to this process's connections while it ran. */
async function countingDeadlocks<T>(run: () => Promise<T>): Promise<{ answer: T; deadlocks: number }> {
  let deadlocks = 0;
  const answer = await seeingTheStatements((_, send) => {
    const r = send();
    if (r instanceof Promise) r.catch((e: { code?: string }) => void (e?.code === '40P01' && deadlocks++));
    return r;
  }, run);
  return { answer, deadlocks };
}

/** Runs `first`, then once it waits at the holder's lock `second`, then lets the holder go once both wait. */
async function bothWaitingBehind<A, B>(holder: pg.Client, first: () => Promise<A>, second: () => Promise<B>): Promise<[A, B]> {
  const one = first();
  await expect.poll(waiting, { timeout: 10_000 }).toBe(1);
  const two = second();
  await expect.poll(waiting, { timeout: 10_000 }).toBe(2);
  await holder.query('COMMIT');
  return Promise.all([one, two]);
}

describe('two bulk revokes over the same owners in opposite orders', () => {
  it('of different keys: each owner’s count is locked in one order, no deadlock — one before, aborted and retried', async () => {
    const engine = createEngine(createPostgresStore(db.url), { usageFlushMs: 0 });
    const [b1, b2] = [await engine.as('bob').generateKey({ description: 'bob bulk 1' }), await engine.as('bob').generateKey({ description: 'bob bulk 2' })];
    const [c1, c2] = [await engine.as('carol').generateKey({ description: 'carol bulk 1' }), await engine.as('carol').generateKey({ description: 'carol bulk 2' })];
    // Another session holds bob's row of key counts: the first revoke's writes wait there, the second's too once it counted carol's.
    const holder = new pg.Client(db.url);
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`UPDATE keyward.key_counts SET changes = changes WHERE owner = 'bob'`);
      const { answer, deadlocks } = await countingDeadlocks(() =>
        bothWaitingBehind(
          holder,
          () => engine.as('alice').revokeKeys([b1.id, c1.id]),
          () => engine.as('dave').revokeKeys([c2.id, b2.id]),
        ),
      );
      expect(deadlocks).toBe(0);
      expect(answer.map((r) => r.revoked.map((k) => k.id))).toEqual([
        [b1.id, c1.id],
        [c2.id, b2.id],
      ]);
    } finally {
      await holder.end();
    }
    await engine.close();
  });

  it('of the same keys: they are read (locked) in id order, no deadlock — one before; the second finds them revoked', async () => {
    const engine = createEngine(createPostgresStore(db.url), { usageFlushMs: 0 });
    const keys = [await engine.as('bob').generateKey({ description: 'bob same 1' }), await engine.as('carol').generateKey({ description: 'carol same 1' })];
    const [low, high] = keys.map((k) => k.id).sort();
    // Another session holds the lower id's key: the first revoke reads it first and waits there.
    const holder = new pg.Client(db.url);
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM keyward.keys WHERE id = $1 FOR UPDATE`, [low]);
      const { answer, deadlocks } = await countingDeadlocks(() =>
        bothWaitingBehind(
          holder,
          () => engine.as('alice').revokeKeys([low, high]),
          () => engine.as('dave').revokeKeys([high, low]),
        ),
      );
      expect(deadlocks).toBe(0);
      expect(answer[0].revoked.map((k) => k.id)).toEqual([low, high]);
      expect(answer[1]).toMatchObject({ revoked: [], skipped: [{ id: high, code: 'KEY_NOT_ACTIVE' }, { id: low, code: 'KEY_NOT_ACTIVE' }] });
    } finally {
      await holder.end();
    }
    await engine.close();
  });

  it('two leak reports of the same tokens in opposite orders: their keys are read in id order, no deadlock — one before; the second finds them revoked', async () => {
    const engine = createEngine(createPostgresStore(db.url), { usageFlushMs: 0 });
    const [one, two] = [await engine.as('bob').generateKey({ description: 'bob leaked' }), await engine.as('carol').generateKey({ description: 'carol leaked' })];
    const [low, high] = [one, two].sort((x, y) => (x.id < y.id ? -1 : 1));
    const leak = (k: { token: string }) => ({ token: k.token, type: 'keyward_api_token' });
    const holder = new pg.Client(db.url);
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM keyward.keys WHERE id = $1 FOR UPDATE`, [low.id]);
      const { answer, deadlocks } = await countingDeadlocks(() =>
        bothWaitingBehind(
          holder,
          () => reportLeaks(engine, [leak(low), leak(high)]),
          () => reportLeaks(engine, [leak(high), leak(low)]),
        ),
      );
      expect(deadlocks).toBe(0);
      expect(answer.map((a) => a.map((f) => f.label))).toEqual([
        ['true_positive', 'true_positive'],
        ['true_positive', 'true_positive'],
      ]);
      const revoked = await admin.query(`SELECT count(*) AS n FROM keyward.events WHERE event_type = 'api-key.revoked' AND key_id = ANY($1)`, [[low.id, high.id]]);
      expect(Number(revoked.rows[0].n)).toBe(2);
    } finally {
      await holder.end();
    }
    await engine.close();
  });
});
