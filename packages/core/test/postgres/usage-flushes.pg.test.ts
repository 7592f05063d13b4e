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

  it('sent again once a sweep of the version before dropped its name (a day on) is found by its events: counted once, and the flushes after it go — before, refused by its events’ ids every time, the pipeline stuck behind it', async () => {
    const one = createEngine(createPostgresStore(db.url), { usageFlushMs: 0 });
    const key = await one.as('bob').generateKey({ description: 'bob flush sent a day on' });
    for (let i = 0; i < 3; i++) expect((await one.verify(key.token)).valid).toBe(true);
    const committed = async () => (await usedEventsOf(key.id)) > 0;
    const lost = await refusingTheFateLooks(() => losingTheAnswersOnceCommitted('api-key.used', committed, () => one.flush()));
    expect((lost as PromiseRejectedResult).reason).toMatchObject({ code: 'OUTCOME_UNKNOWN' });

    // A day on, a sweep of a server of the version before drops the names of flushes a day old.
    await admin.query(`UPDATE keyward.usage_flushes SET at = at - interval '2 days'`);
    await admin.query(`DELETE FROM keyward.usage_flushes WHERE at < now() - interval '1 day'`);
    expect(Number((await admin.query(`SELECT count(*) AS n FROM keyward.usage_flushes`)).rows[0].n)).toBe(0);

    await one.flush();
    expect(await usesOf(admin, key.id)).toBe(3);
    expect(await usedEventsOf(key.id)).toBe(1);
    expect((await one.verify(key.token)).valid).toBe(true);
    await one.flush();
    expect(await usesOf(admin, key.id)).toBe(4);
    await one.close();
  });

  it('with no event, sent again two days on, is found by its name, kept as long as the minutes it counts — counted twice before, its name dropped a day on', async () => {
    const one = createEngine(createPostgresStore(db.url), { usageFlushMs: 0 });
    const key = await one.as('bob').generateKey({ description: 'bob uses with no event' });
    await one.close();
    const store = createPostgresStore(db.url);
    const minute = Math.floor(Date.now() / 60_000);
    const counts = [{ keyId: key.id, minute, uses: 3, lastUsed: minute * 60_000 }];
    const flush = { by: 'flusher-with-no-event', seq: 1 };
    const committed = async () => (await usesOf(admin, key.id)) === 3;
    const lost = await refusingTheFateLooks(() => losingTheAnswersOnceCommitted(flush.by, committed, () => store.recordUsage(counts, [], flush)));
    expect((lost as PromiseRejectedResult).reason).toMatchObject({ code: 'OUTCOME_UNKNOWN' });

    // Two days on, the tenant's retention (90 days) sweeps.
    await admin.query(`UPDATE keyward.usage_flushes SET at = at - interval '2 days'`);
    await store.removeBefore(Date.now() - 90 * 86_400_000);
    await store.recordUsage(counts, [], flush);
    expect(await usesOf(admin, key.id)).toBe(3);
    await store.close();
  });

  it('sent again once retention removed its day — its name and events with it — is not counted again: what is past the retention is left out — counted again before, with its event', async () => {
    let now = Date.now();
    const clock = { now: () => now };
    const one = createEngine(createPostgresStore(db.url), { usageFlushMs: 0, retentionSweepMs: 0, clock });
    const key = await one.as('bob').generateKey({ description: 'bob flush sent past retention' });
    for (let i = 0; i < 3; i++) expect((await one.verify(key.token)).valid).toBe(true);
    const committed = async () => (await usedEventsOf(key.id)) > 0;
    const lost = await refusingTheFateLooks(() => losingTheAnswersOnceCommitted('api-key.used', committed, () => one.flush()));
    expect((lost as PromiseRejectedResult).reason).toMatchObject({ code: 'OUTCOME_UNKNOWN' });
    expect(await usesOf(admin, key.id)).toBe(3);

    // 92 days on (the database's clock too), the sweep removes the flush's day: its minutes, its event, its name.
    now += 92 * 86_400_000;
    await admin.query(`UPDATE keyward.usage_flushes SET at = at - interval '92 days'`);
    await one.sweep();
    expect(await usesOf(admin, key.id)).toBe(0);
    expect(await usedEventsOf(key.id)).toBe(0);
    expect(Number((await admin.query(`SELECT count(*) AS n FROM keyward.usage_flushes`)).rows[0].n)).toBe(0);

    await one.flush();
    expect(await usesOf(admin, key.id)).toBe(0);
    expect(await usedEventsOf(key.id)).toBe(0);
    // The flushes after it are counted (a key of now: the first expired meanwhile).
    const later = await one.as('bob').generateKey({ description: 'bob flush after the one past retention' });
    expect((await one.verify(later.token)).valid).toBe(true);
    await one.flush();
    expect(await usesOf(admin, later.id)).toBe(1);
    expect(await usedEventsOf(later.id)).toBe(1);
    await one.close();
  });
});

describe('a process that ends', () => {
  const names = async () => Number((await admin.query(`SELECT count(*) AS n FROM keyward.usage_flushes`)).rows[0].n);

  it('leaves no flush name once every flush of its was answered — one whose answer was lost sent again as it closes, counted once — where its latest name stayed for the retention and a day (a row per verifying process, a `keyward keys verify` each)', async () => {
    const before = await names();
    const one = createEngine(createPostgresStore(db.url), { usageFlushMs: 0 });
    const key = await one.as('bob').generateKey({ description: 'bob flush of a process that ends' });
    for (let i = 0; i < 3; i++) expect((await one.verify(key.token)).valid).toBe(true);
    const committed = async () => (await usedEventsOf(key.id)) > 0;
    const lost = await refusingTheFateLooks(() => losingTheAnswersOnceCommitted('api-key.used', committed, () => one.flush()));
    expect((lost as PromiseRejectedResult).reason).toMatchObject({ code: 'OUTCOME_UNKNOWN' });
    expect(await names()).toBe(before + 1);
    expect((await one.verify(key.token)).valid).toBe(true);
    await one.close();
    expect(await usesOf(admin, key.id)).toBe(4);
    expect(await usedEventsOf(key.id)).toBe(2);
    expect(await names()).toBe(before);
  });

  it('whose last flush could not be sent keeps its name: the flush may have committed, and nothing is told', async () => {
    const before = await names();
    const one = createEngine(createPostgresStore(db.url), { usageFlushMs: 0 });
    const key = await one.as('bob').generateKey({ description: 'bob flush lost as the process ends' });
    expect((await one.verify(key.token)).valid).toBe(true);
    const committed = async () => (await usedEventsOf(key.id)) > 0;
    // The flush its close sends: committed, its answer lost, its fate not told.
    const closed = await refusingTheFateLooks(() => losingTheAnswersOnceCommitted('api-key.used', committed, () => one.close()));
    expect((closed as PromiseRejectedResult).reason).toMatchObject({ code: 'OUTCOME_UNKNOWN' });
    expect(await usesOf(admin, key.id)).toBe(1);
    expect(await names()).toBe(before + 1);
  });
});
