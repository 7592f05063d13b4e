// A database of its own for one test file, seeded with the usual tenant (alice
// the admin, bob), and an admin connection beside the servers for what a test
// does behind their backs (plain SQL, counting connections); and what the
// tests of creates on it share: another session holding a user's row, and
// the check that a create made its key once.
import pg from 'pg';
import { expect } from 'vitest';
import { systemClock } from '../../src/clock.js';
import type { Engine } from '../../src/engine.js';
import { createPostgresStore } from '../../src/store/postgres/store.js';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/postgres.js';
import { seededStore } from '../helpers.js';

export interface SeededDatabase {
  db: TestDatabase;
  admin: pg.Client;
  /** Ends the admin connection and drops the database. */
  drop(): Promise<void>;
}

export async function seededDatabase(opts: { maxKeys?: number } = {}): Promise<SeededDatabase> {
  const db = await createTestDatabase();
  const admin = new pg.Client(db.url);
  await admin.connect();
  const { engine } = await seededStore({ store: createPostgresStore(db.url), clock: systemClock, maxKeys: opts.maxKeys });
  await engine.close();
  return {
    db,
    admin,
    drop: async () => {
      await admin.end();
      await db.drop();
    },
  };
}

/** Another session holding `user`'s row (BEGIN, FOR UPDATE): a create for them waits at its lock until it commits or ends. */
export async function holdingTheRowOf(url: string, user: string): Promise<pg.Client> {
  const holder = new pg.Client(url);
  await holder.connect();
  await holder.query('BEGIN');
  await holder.query(`SELECT 1 FROM keyward.users WHERE id = $1 FOR UPDATE`, [user]);
  return holder;
}

/** How many statements of Keyward's connections (application_name keyward) to this database wait at a lock now. */
export async function waitingAtLocks(admin: pg.Client): Promise<number> {
  return Number((await admin.query(`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'keyward' AND wait_event_type = 'Lock'`)).rows[0].n);
}

/** The key a create answered with is the only one under its description, with one event, and `engine` accepts its token: made once. */
export async function expectMadeOnce(admin: pg.Client, engine: Engine, description: string, key: { id: string; token: string }): Promise<void> {
  const rows = await admin.query(`SELECT id FROM keyward.keys WHERE description = $1`, [description]);
  expect(rows.rows.map((r) => r.id)).toEqual([key.id]);
  expect(Number((await admin.query(`SELECT count(*) AS n FROM keyward.events WHERE key_id = $1`, [key.id])).rows[0].n)).toBe(1);
  expect((await engine.verify(key.token)).valid).toBe(true);
}

/** A key's uses as the database holds them, summed over every server's flushes. */
export async function usesOf(admin: pg.Client, keyId: string): Promise<number> {
  return Number((await admin.query(`SELECT coalesce(sum(uses), 0) AS n FROM keyward.usage WHERE key_id = $1`, [keyId])).rows[0].n);
}
