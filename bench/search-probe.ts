// What the search index (migration 15: pg_trgm) gives a search and costs a
// create: `node --import tsx bench/search-probe.ts [--keys N] [--rounds N]`.
// Prints figures only; not a `pnpm bench` measure.
//
// On an embedded PostgreSQL 18:
//   searches   N keys (default a million) written in plain SQL, then the
//              indexes built as migrations 15 and 16 build them (time and
//              size); then, for searches that match none, a few, thousands
//              and a fifth of the keys, a search as the terminal UI asks it
//              (the first page of 50 and the total: keys-table.ts
//              findKeys), with both indexes, without the ids' (migration
//              16's, dropped in a transaction rolled back after), and as
//              before either (the scan), alternately;
//   creates    1k keys (bench/fixtures.ts); in-process creates one after
//              another, as bench/postgres.ts create makes them, in rounds
//              alternately with both indexes, with the search index alone,
//              and with neither (dropped): µs per create, and the key and
//              event insert's own time inside PostgreSQL
//              (pg_stat_statements), where the indexes' cost is.
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createEngine, openStore } from '../packages/core/src/index.js';
import { findKeys } from '../packages/core/src/store/postgres/keys-table.js';
import { migrate, searchIndex } from '../packages/core/src/store/postgres/migrations.js';
import type { Sql } from '../packages/core/src/store/postgres/sql.js';
import { startPostgres } from '../test/support/postgres-server.js';
import { buildStore, postgresCopyOf } from './fixtures.js';
import { median } from './lib.js';
import { withStatementStats } from './pg-statements.js';

const { values: opts } = parseArgs({ options: { keys: { type: 'string', default: '1000000' }, rounds: { type: 'string', default: '5' } } });
const KEYS = Number(opts.keys);
const ROUNDS = Number(opts.rounds);
const INDEX = searchIndex('keyward');
const ID_INDEX = searchIndex('keyward', 'keys_id_search');

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}
const ms = (v: number) => `${v.toFixed(v < 10 ? 1 : 0)} ms`;

async function searches(serverUrl: string): Promise<void> {
  const pool = new pg.Pool({ connectionString: serverUrl });
  await migrate(pool, 'probe');
  await pool.query('DROP INDEX keyward.keys_search, keyward.keys_id_search');
  // Descriptions of five kinds, a thousand owners, ids as Keyward makes them (24 hex digits). Triggers off: only the table matters.
  await pool.query('ALTER TABLE keyward.keys DISABLE TRIGGER USER');
  await pool.query(
    `INSERT INTO keyward.keys (id, owner, created_by, description, created, expiry, revoked_at, record)
     SELECT lpad(to_hex(g::bigint * 7919), 24, '0'), 'user' || (g % 1000), 'user' || (g % 1000),
            (ARRAY['CI deploy', 'Local dev', 'Staging webhook', 'Grafana scraper', 'Backup job'])[g % 5 + 1] || ' ' || g,
            now() - g * interval '1 second', now() + interval '30 days', NULL, jsonb_build_object('id', g, 'pad', repeat('x', 300))
       FROM generate_series(1, $1::int) g`,
    [KEYS],
  );
  await pool.query('ALTER TABLE keyward.keys ENABLE TRIGGER USER');
  await pool.query('VACUUM ANALYZE keyward.keys');
  const build = await timed(() => pool.query(INDEX));
  const buildIds = await timed(() => pool.query(ID_INDEX));
  const size = (
    await pool.query(
      `SELECT pg_size_pretty(pg_relation_size('keyward.keys_search')) AS i, pg_size_pretty(pg_relation_size('keyward.keys_id_search')) AS ids, pg_size_pretty(pg_table_size('keyward.keys')) AS t`,
    )
  ).rows[0];
  await pool.query('ANALYZE keyward.keys');
  console.log(`${KEYS} keys (table ${size.t}): the search index built in ${ms(build)}, ${size.i}; the ids' in ${ms(buildIds)}, ${size.ids}`);
  // A search without the ids' index: dropped in a transaction of its own, rolled back after (the drop only writes the catalog).
  const withoutIds = async (fn: (sql: Sql) => Promise<void>) => {
    const c = await pool.connect();
    try {
      await c.query('BEGIN');
      await c.query('DROP INDEX keyward.keys_id_search');
      await fn(c);
    } finally {
      await c.query('ROLLBACK');
      c.release();
    }
  };
  const kinds: [string, string][] = [
    ['none match', 'zzz'],
    ['a whole id', (4242 * 7919).toString(16).padStart(24, '0')],
    ['an id\'s end', (4242 * 7919).toString(16).padStart(24, '0').slice(-9)],
    ['a hex word', 'decade'],
    ['three hex', 'f00'],
    ['22 keys', 'grafana scraper 4242'],
    ['an owner, 1,000', 'user777'],
    ['a fifth', 'staging'],
    ['two characters', 'ab'],
  ];
  for (const [kind, search] of kinds) {
    const runs = { both: [] as number[], noIds: [] as number[], scan: [] as number[] };
    let total = 0;
    const find = (sql: Sql, indexed: boolean) =>
      timed(async () => {
        total = (await findKeys(sql, { limit: 50, now: Date.now(), search }, { indexed })).total;
      });
    for (let r = 0; r < ROUNDS; r++) {
      runs.both.push(await find(pool, true));
      await withoutIds(async (c) => void runs.noIds.push(await find(c, true)));
      runs.scan.push(await find(pool, false));
    }
    const [a, b, c] = [median(runs.both), median(runs.noIds), median(runs.scan)];
    console.log(
      `  ${kind.padEnd(16)} ${JSON.stringify(search).padEnd(26)} ${String(total).padStart(7)} found: ${ms(a).padStart(8)} with both indexes, ${ms(b).padStart(8)} without the ids', ${ms(c).padStart(8)} scanning`,
    );
  }
  await pool.end();
}

async function creates(server: Awaited<ReturnType<typeof startPostgres>>): Promise<void> {
  await withStatementStats(server);
  const url = await postgresCopyOf(server.url, 'keyward_search_probe', buildStore(1000));
  const db = new pg.Client(url);
  await db.connect();
  await db.query('CREATE EXTENSION pg_stat_statements');
  const insertMs = async () =>
    Number((await db.query(`SELECT coalesce(sum(total_exec_time), 0) AS t FROM pg_stat_statements WHERE query LIKE 'WITH made AS%'`)).rows[0].t);
  const engine = createEngine(await openStore(url), { usageFlushMs: 0 });
  let n = 0;
  const create = () => engine.as(`dev${n++ % 100}`).generateKey({ description: `probe ${n}` });
  // V8 keeps compiling the engine's code over its first thousands of creates (bench/postgres.ts).
  for (let i = 0; i < 3000; i++) await create();
  const sides = ['both', 'search', 'without'] as const;
  const runs = Object.fromEntries(sides.map((side) => [side, { create: [] as number[], insert: [] as number[] }])) as Record<(typeof sides)[number], { create: number[]; insert: number[] }>;
  const CREATES = 800;
  for (let r = 0; r < ROUNDS; r++) {
    for (const side of sides) {
      await db.query('DROP INDEX IF EXISTS keyward.keys_search, keyward.keys_id_search');
      if (side !== 'without') await db.query(INDEX);
      if (side === 'both') await db.query(ID_INDEX);
      for (let i = 0; i < 100; i++) await create();
      const before = await insertMs();
      const t = await timed(async () => {
        for (let i = 0; i < CREATES; i++) await create();
      });
      runs[side].create.push((t * 1000) / CREATES);
      runs[side].insert.push(((await insertMs()) - before) * 1000 / CREATES);
    }
  }
  const us = (xs: number[]) => `${Math.round(median(xs))} µs (${xs.map(Math.round).join(', ')})`;
  console.log(`creates, 1k keys, medians of ${ROUNDS} rounds of ${CREATES}:`);
  console.log(`  with both indexes:      a create ${us(runs.both.create)}; its key and event insert ${us(runs.both.insert)}`);
  console.log(`  the search index only: a create ${us(runs.search.create)}; its key and event insert ${us(runs.search.insert)}`);
  console.log(`  neither:               a create ${us(runs.without.create)}; its key and event insert ${us(runs.without.insert)}`);
  await db.end();
  await engine.close();
}

const server = await startPostgres();
try {
  await searches(server.url);
  await creates(server);
} finally {
  await server.destroy();
}
