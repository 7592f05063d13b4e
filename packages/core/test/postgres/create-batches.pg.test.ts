// Creates that queue go together (use-cases/create-batches.ts) on PostgreSQL,
// where each server batches its own: bursts of one user's creates through two
// servers at once are held to the key limit together (each batch counts
// under the owner's row lock, so the other server's keys are counted), every
// create answered on its own with its own token, record and event.

import { afterAll, beforeAll, expect, it } from 'vitest';
import pg from 'pg';
import { createEngine } from '../../src/engine.js';
import { createPostgresStore } from '../../src/store/postgres/store.js';
import type { TestDatabase } from '../../../../test/support/postgres.js';
import { seededDatabase } from './seeded-database.js';

let db: TestDatabase;
let admin: pg.Client;
let drop: () => Promise<void>;
beforeAll(async () => void ({ db, admin, drop } = await seededDatabase({ maxKeys: 7 })));
afterAll(() => drop());

it('two servers each take a burst of one user’s creates: the limit is held across both, each create answered on its own', async () => {
  const [one, two] = [createEngine(createPostgresStore(db.url), { usageFlushMs: 0 }), createEngine(createPostgresStore(db.url), { usageFlushMs: 0 })];
  try {
    const burst = (engine: typeof one, server: string) =>
      Array.from({ length: 10 }, (_, i) => engine.as('bob').generateKey({ description: `${server} ${i}` }).then((k) => ({ ok: true as const, k }), (e: { code?: string }) => ({ ok: false as const, code: e.code })));
    const answers = await Promise.all([...burst(one, 'one'), ...burst(two, 'two')]);
    const made = answers.flatMap((a) => (a.ok ? [a.k] : []));
    expect(made).toHaveLength(7);
    expect(answers.filter((a) => !a.ok).map((a) => (a.ok ? '' : a.code))).toEqual(Array(13).fill('KEY_LIMIT_REACHED'));
    expect(new Set(made.map((k) => k.token)).size).toBe(7);
    expect(new Set(made.map((k) => k.id)).size).toBe(7);
    const rows = await admin.query<{ id: string; description: string }>(`SELECT id, record->>'description' AS description FROM keyward.keys WHERE owner = 'bob'`);
    expect(new Map(rows.rows.map((r) => [r.id, r.description]))).toEqual(new Map(made.map((k) => [k.id, k.description])));
    const events = await admin.query<{ key_id: string }>(`SELECT key_id FROM keyward.events WHERE event_type = 'api-key.generated' AND user_id = 'bob'`);
    expect(events.rows.map((r) => r.key_id).sort()).toEqual(made.map((k) => k.id).sort());
  } finally {
    await Promise.all([one.close(), two.close()]);
  }
});
