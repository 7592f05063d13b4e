// A usage flush whose answer was lost is sent again, and counted once: the
// flush committed, its COMMIT's answer kept from the driver, its fate looks
// refused (OUTCOME_UNKNOWN), then the same flush sent again on a real
// PostgreSQL, beside another server flushing the same key.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine.js';
import { createPostgresStore } from '../../src/store/postgres/store.js';
import type { TestDatabase } from '../../../../test/support/postgres.js';
import { seededDatabase, usesOf } from './seeded-database.js';
import { losingTheAnswersOnceCommitted, refusingTheFateLooks } from './lost-answers.js';

let db: TestDatabase;
let admin: pg.Client;
let drop: () => Promise<void>;
beforeAll(async () => void ({ db, admin, drop } = await seededDatabase()));
afterAll(() => drop());

const usedEventsOf = async (keyId: string) => Number((await admin.query(`SELECT count(*) AS n FROM keyward.events WHERE key_id = $1 AND event_type = 'api-key.used'`, [keyId])).rows[0].n);

describe('a usage flush whose answer was lost', () => {
  it('is sent again and counted once, summed with another server’s uses — counted twice before, with two api-key.used events', async () => {
    const one = createEngine(createPostgresStore(db.url), { usageFlushMs: 0 });
    const two = createEngine(createPostgresStore(db.url), { usageFlushMs: 0 });
    const key = await one.as('bob').generateKey({ description: 'bob flush answer lost' });
    for (let i = 0; i < 3; i++) expect((await one.verify(key.token)).valid).toBe(true);
    for (let i = 0; i < 2; i++) expect((await two.verify(key.token)).valid).toBe(true);

    const committed = async () => (await usedEventsOf(key.id)) > 0;
    const lost = await refusingTheFateLooks(() => losingTheAnswersOnceCommitted('api-key.used', committed, () => one.flush()));
    expect(lost.status).toBe('rejected');
    expect((lost as PromiseRejectedResult).reason).toMatchObject({ code: 'OUTCOME_UNKNOWN' });
    expect(await usesOf(admin, key.id)).toBe(3);

    // Sent again (the next flush), with another server's flush beside it.
    await Promise.all([one.flush(), two.flush()]);
    expect(await usesOf(admin, key.id)).toBe(5);
    expect(await usedEventsOf(key.id)).toBe(2);
    expect((await one.as('bob').getKey(key.id)).lastUsed).toBeDefined();
    // One verify more: a flush of its own, counted.
    expect((await one.verify(key.token)).valid).toBe(true);
    await one.flush();
    expect(await usesOf(admin, key.id)).toBe(6);
    // Each process keeps only its latest flush noted.
    expect(Number((await admin.query(`SELECT count(*) AS n FROM keyward.usage_flushes`)).rows[0].n)).toBe(2);
    await Promise.all([one.close(), two.close()]);
  });

  it('sent again once retention dropped its name (a day on) is found by its events: counted once, and the flushes after it go — before, refused by its events’ ids every time, the pipeline stuck behind it', async () => {
    const one = createEngine(createPostgresStore(db.url), { usageFlushMs: 0 });
    const key = await one.as('bob').generateKey({ description: 'bob flush sent a day on' });
    for (let i = 0; i < 3; i++) expect((await one.verify(key.token)).valid).toBe(true);
    const committed = async () => (await usedEventsOf(key.id)) > 0;
    const lost = await refusingTheFateLooks(() => losingTheAnswersOnceCommitted('api-key.used', committed, () => one.flush()));
    expect((lost as PromiseRejectedResult).reason).toMatchObject({ code: 'OUTCOME_UNKNOWN' });

    // A day on, retention's sweep drops the names of flushes of processes it takes for gone.
    await admin.query(`UPDATE keyward.usage_flushes SET at = at - interval '2 days'`);
    const sweeper = createPostgresStore(db.url);
    await sweeper.removeBefore(Date.parse('2000-01-01T00:00:00Z'));
    await sweeper.close();
    expect(Number((await admin.query(`SELECT count(*) AS n FROM keyward.usage_flushes`)).rows[0].n)).toBe(0);

    await one.flush();
    expect(await usesOf(admin, key.id)).toBe(3);
    expect(await usedEventsOf(key.id)).toBe(1);
    expect((await one.verify(key.token)).valid).toBe(true);
    await one.flush();
    expect(await usesOf(admin, key.id)).toBe(4);
    await one.close();
  });
});
