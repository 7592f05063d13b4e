// The search indexes' pending lists (search-upkeep.ts) on a real PostgreSQL: a
// server that has made a thousand keys merges the trigrams they left pending
// into each index itself, in a statement of its own, rather than leave the
// merge to whichever create finds the list full.

import { afterAll, beforeAll, expect, it } from 'vitest';
import pg from 'pg';
import { createEngine } from '../../src/engine.js';
import { createPostgresStore } from '../../src/store/postgres/store.js';
import { MERGE_PENDING_SEARCH_ENTRIES } from '../../src/store/postgres/search-upkeep.js';
import type { TestDatabase } from '../../../../test/support/postgres.js';
import { seededDatabase } from './seeded-database.js';
import { seeingTheStatements, statementText } from './statements-sent.js';

let db: TestDatabase;
let admin: pg.Client;
let drop: () => Promise<void>;
beforeAll(async () => void ({ db, admin, drop } = await seededDatabase({ maxKeys: 1000 })));
afterAll(() => drop());

it('a server that has made a thousand keys merges their pending search entries into both indexes, once, beside the creates', async () => {
  // Nothing else merges the list meanwhile: autovacuum would, after enough inserts.
  await admin.query('ALTER TABLE keyward.keys SET (autovacuum_enabled = false)');
  await admin.query('CREATE EXTENSION IF NOT EXISTS pgstattuple');
  const pendingIn = async (index: string) => Number((await admin.query(`SELECT pending_tuples AS n FROM pgstatginindex($1::regclass)`, [index])).rows[0].n);
  const pending = async () => [await pendingIn('keyward.keys_search'), await pendingIn('keyward.keys_id_search')];
  const engine = createEngine(createPostgresStore(db.url), { usageFlushMs: 0 });
  let merges = 0;
  // Spread over three developers: one may hold a thousand keys at most.
  const make = (i: number) => engine.as(['alice', 'bob', 'carol'][i % 3]).generateKey({ description: `build ${i}` });
  try {
    await seeingTheStatements(
      (a, send) => {
        if (statementText(a) === MERGE_PENDING_SEARCH_ENTRIES) merges++;
        return send();
      },
      async () => {
        for (let i = 0; i < 999; i++) await make(i);
        expect(merges).toBe(0);
        for (const n of await pending()) expect(n).toBeGreaterThan(0);
        await make(999);
        await expect.poll(pending, { timeout: 5000 }).toEqual([0, 0]);
        expect(merges).toBe(1);
      },
    );
    // The index answers for keys it holds merged.
    const found = (await engine.as('alice').listKeys({ search: 'build 998' })).data;
    expect(found.map((k) => k.description)).toEqual(['build 998']);
    expect((await engine.as('alice').listKeys({ search: found[0].id.slice(5, 17) })).data.map((k) => k.id)).toEqual([found[0].id]);
  } finally {
    await engine.close();
  }
});
