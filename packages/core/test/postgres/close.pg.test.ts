// A PostgreSQL store's close(): what was asked of it before is done first,
// and once it returned nothing more is written on its behalf — on a real
// PostgreSQL, with a usage flush whose connection was cut as it waited at a
// lock another session held.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine.js';
import { LISTENER_NAME } from '../../src/store/postgres/changes.js';
import { createPostgresStore } from '../../src/store/postgres/store.js';
import type { TestDatabase } from '../../../../test/support/postgres.js';
import { seededDatabase, usesOf } from './seeded-database.js';
import { cutLaterTheWriteOf } from './lost-answers.js';

let db: TestDatabase;
let admin: pg.Client;
let drop: () => Promise<void>;
beforeAll(async () => void ({ db, admin, drop } = await seededDatabase()));
afterAll(() => drop());

const sessionsOfStores = async () =>
  Number((await admin.query(`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name IN ('keyward', $1)`, [LISTENER_NAME])).rows[0].n);

describe('close()', () => {
  it('ends the pool only once a usage flush under way is done: one whose connection was lost as the store closed, waiting at a lock, left its backend there after close() returned', async () => {
    const store = createPostgresStore(db.url);
    const engine = createEngine(store, { usageFlushMs: 0 });
    const key = await engine.as('bob').generateKey({ description: 'bob flush as the store closes' });
    store.onChange(() => undefined); // listening, as a server is
    expect((await engine.verify(key.token)).valid).toBe(true);
    await engine.flush();
    for (let i = 0; i < 3; i++) expect((await engine.verify(key.token)).valid).toBe(true);

    // Another session holds the key's last use: the flush's statements (and its COMMIT) go out whole and wait there.
    const holder = new pg.Client(db.url);
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query(`SELECT 1 FROM keyward.last_use WHERE key_id = $1 FOR UPDATE`, [key.id]);
    const { answer, sent } = cutLaterTheWriteOf('api-key.used', () => engine.flush());
    const flushed = answer.then(
      () => undefined,
      (e: unknown) => e,
    );
    const connection = await sent;
    // The store closes; then the flush's connection is lost, its answer with it.
    const closed = store.close();
    await new Promise((r) => setTimeout(r, 100));
    connection.cut();
    await closed;
    // Nothing of the store's is left at the database while the lock is still held: the flush's backend, holding
    // its writes and COMMIT, was ended by its fate look before close() returned. Before, those looks were refused
    // by the pool close() had already ended: the backend was left waiting there (1 session) after close() returned.
    await expect.poll(sessionsOfStores, { timeout: 2000 }).toBe(0);
    await holder.query('COMMIT');
    await new Promise((r) => setTimeout(r, 300));
    expect(await usesOf(admin, key.id)).toBe(1);
    // So the flush is known not made (UNAVAILABLE: nothing was changed; OUTCOME_UNKNOWN before), its uses still this process's to send.
    expect(await flushed).toMatchObject({ code: 'UNAVAILABLE' });
    await holder.end();
  });
});
