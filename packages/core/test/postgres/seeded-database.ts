// A database of its own for one test file, seeded with the usual tenant (alice
// the admin, bob), and an admin connection beside the servers for what a test
// does behind their backs (plain SQL, counting connections).
import pg from 'pg';
import { systemClock } from '../../src/clock.js';
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
