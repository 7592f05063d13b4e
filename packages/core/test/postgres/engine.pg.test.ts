// The engine on a real PostgreSQL: what a one-shot command costs (no LISTEN
// connection unless it verifies), and a create that meets a pooled
// connection the database closed while it sat idle (it runs again on a
// fresh one; nothing is written twice), and a key revoked in plain SQL — no
// NOTIFY, as when one is lost — refused by a server that had it cached; and
// a create's statements leaving in two socket writes, one per round trip.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import pg from 'pg';
import { systemClock } from '../../src/clock.js';
import { createEngine } from '../../src/engine.js';
import { createPostgresStore } from '../../src/store/postgres/store.js';
import { LISTENER_NAME } from '../../src/store/postgres/changes.js';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/postgres.js';
import { seededStore } from '../helpers.js';

let db: TestDatabase;
let admin: pg.Client;

beforeAll(async () => {
  db = await createTestDatabase();
  admin = new pg.Client(db.url);
  await admin.connect();
  const { engine } = await seededStore({ store: createPostgresStore(db.url), clock: systemClock });
  await engine.close();
});
afterAll(async () => {
  await admin.end();
  await db.drop();
});

const listeners = async () =>
  Number((await admin.query(`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1`, [LISTENER_NAME])).rows[0].n);

describe('engine on PostgreSQL', () => {
  it('a one-shot command opens no LISTEN connection; the first verify does, and close ends it', async () => {
    const store = createPostgresStore(db.url);
    const engine = createEngine(store, { usageFlushMs: 0 });
    const made = await engine.as('alice').generateKey({ description: 'one shot' });
    expect((await engine.as('alice').listKeys({ limit: 5 })).data.map((k) => k.id)).toContain(made.id);
    // Long enough for a connection to have been made, had anything started one.
    await new Promise((r) => setTimeout(r, 500));
    expect(store.listening).toBe(false);
    expect(await listeners()).toBe(0);

    expect((await engine.verify(made.token)).valid).toBe(true);
    await expect.poll(() => store.listening, { timeout: 5000 }).toBe(true);
    expect(await listeners()).toBe(1);
    await engine.close();
    await expect.poll(listeners, { timeout: 5000 }).toBe(0);
  });

  it('a create on a pooled connection the database closed meanwhile runs again on a fresh one, once', async () => {
    const store = createPostgresStore(db.url);
    const engine = createEngine(store, { usageFlushMs: 0 });
    await engine.as('alice').generateKey({ description: 'warms the pool' });
    const cut = await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'keyward'`);
    expect(cut.rowCount).toBeGreaterThan(0);
    const made = await engine.as('alice').generateKey({ description: 'after the cut' });
    const rows = await admin.query(`SELECT count(*) AS n FROM keyward.keys WHERE description = 'after the cut'`);
    expect(Number(rows.rows[0].n)).toBe(1);
    const events = await admin.query(`SELECT count(*) AS n FROM keyward.events WHERE key_id = $1`, [made.id]);
    expect(Number(events.rows[0].n)).toBe(1);
    await engine.close();
  });
  it('a key revoked in plain SQL, which sends no NOTIFY, is refused within a second by a server that had it cached', async () => {
    const writer = createEngine(createPostgresStore(db.url), { usageFlushMs: 0 });
    const store = createPostgresStore(db.url);
    const server = createEngine(store, { usageFlushMs: 0 });
    const made = await writer.as('alice').generateKey({ description: 'revoked by an operator' });
    expect((await server.verify(made.token)).valid).toBe(true);
    await expect.poll(() => store.listening, { timeout: 5000 }).toBe(true);
    // Answered from the cache now (synchronously), not from the database — once
    // listening has begun, which drops what was cached before it: asked until then.
    const answeredFromCache = async () => {
      const v = server.verify(made.token);
      return !(v instanceof Promise) && (await v).valid;
    };
    await expect.poll(answeredFromCache, { timeout: 5000 }).toBe(true);
    const at = Date.now();
    const revoked = await admin.query(
      `UPDATE keyward.keys SET revoked_at = now(),
         record = record || jsonb_build_object('revokedAt', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'revokedBy', 'alice')
       WHERE id = $1`,
      [made.id],
    );
    expect(revoked.rowCount).toBe(1);
    await expect.poll(async () => (await server.verify(made.token)).valid, { timeout: 1000, interval: 10 }).toBe(false);
    expect(Date.now() - at).toBeLessThan(1000);
    expect(await server.verify(made.token)).toMatchObject({ valid: false, reason: 'revoked' });
    await Promise.all([writer.close(), server.close()]);
  });
  it('a create’s statements leave in two socket writes: BEGIN with its reads, then the writes with COMMIT and NOTIFY', async () => {
    const engine = createEngine(createPostgresStore(db.url), { usageFlushMs: 0 });
    // Room for the keys counted below, whatever the tests before left.
    await engine.as('alice').updateSettings({ max_keys_per_user: 1000 });
    // Warm: the schema check and the pool's first connection are not the create's.
    await engine.as('alice').generateKey({ description: 'warms the pool' });
    const socket = net.Socket.prototype as unknown as Record<'_write' | '_writev', (...a: unknown[]) => unknown>;
    const [write, writev] = [socket._write, socket._writev];
    let writes = 0;
    socket._write = function (this: unknown, ...a: unknown[]) {
      writes++;
      return write.apply(this, a);
    };
    socket._writev = function (this: unknown, ...a: unknown[]) {
      writes++;
      return writev.apply(this, a);
    };
    try {
      for (let i = 0; i < 5; i++) await engine.as('alice').generateKey({ description: `counted ${i}` });
    } finally {
      socket._write = write;
      socket._writev = writev;
    }
    expect(writes).toBe(10);
    await engine.close();
  });
});
