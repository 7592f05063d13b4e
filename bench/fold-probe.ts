// What folding case costs on each PostgreSQL Keyward runs on: `node --import
// tsx bench/fold-probe.ts [--keys N]`. Prints figures only; not a `pnpm
// bench` measure.
//
// On an embedded PostgreSQL 18 (folding with pg_unicode_fast) and PostgreSQL
// 14 (with ICU: test/support/oldest-postgres.ts), each holding N keys (default
// a million) written at schema 13 in plain SQL:
//   migration 14   the time it takes: it builds the description index again
//                  on the folded text, under the migration lock;
//   first page     the first 50 keys in description order (the index);
//   search         a search that matches nothing, so every key is folded and
//                  looked at (LIKE '%…%' has no index), against the same scan
//                  with lower() under "C", which folds ASCII alone, and
//                  under pg_c_utf8 where the server has it (17 and later).
import { parseArgs } from 'node:util';
import pg from 'pg';
import { migrate } from '../packages/core/src/store/postgres/migrations.js';
import { folded } from '../packages/core/src/store/postgres/sql.js';
import { oldestPostgresBinaries, startPostgresFrom } from '../test/support/oldest-postgres.js';
import { startPostgres } from '../test/support/postgres-server.js';
import { median } from './lib.js';

const { values: opts } = parseArgs({ options: { keys: { type: 'string', default: '1000000' } } });
const KEYS = Number(opts.keys);

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

async function probe(label: string, serverUrl: string): Promise<void> {
  const pool = new pg.Pool({ connectionString: serverUrl });
  await migrate(pool, 'probe', 13);
  // The triggers that count changes and keys are left out: only the table and its indexes matter here.
  await pool.query(`ALTER TABLE keyward.keys DISABLE TRIGGER USER`);
  await pool.query(
    `INSERT INTO keyward.keys (id, owner, created_by, description, created, expiry, revoked_at, record)
     SELECT lpad(to_hex(g), 24, '0'), 'user' || (g % 1000), 'user' || (g % 1000), 'Key number ' || g || ' for Ünïcode',
            now() - g * interval '1 second', now() + interval '30 days', NULL, '{}'::jsonb
       FROM generate_series(1, $1::int) g`,
    [KEYS],
  );
  await pool.query(`ALTER TABLE keyward.keys ENABLE TRIGGER USER`);
  await pool.query('VACUUM ANALYZE keyward.keys');
  const migration = await timed(() => migrate(pool, 'probe'));
  const page = `SELECT id FROM keyward.keys k ORDER BY ${folded('k.description')}, k.created DESC, k.id LIMIT 50`;
  const search = `SELECT id FROM keyward.keys k WHERE ${folded('k.description')} LIKE '%zzz%' OR ${folded('k.owner')} LIKE '%zzz%' ORDER BY k.created DESC LIMIT 50`;
  const scanUnder = (collation: string) =>
    `SELECT id FROM keyward.keys k WHERE lower(k.description COLLATE ${collation}) LIKE '%zzz%' OR lower(k.owner COLLATE ${collation}) LIKE '%zzz%' ORDER BY k.created DESC LIMIT 50`;
  const facts = (
    await pool.query(
      `SELECT current_setting('server_version') AS server, EXISTS (SELECT FROM pg_collation WHERE collname = 'pg_c_utf8') AS "cUtf8",
              (SELECT collprovider FROM pg_collation WHERE collnamespace = 'keyward'::regnamespace AND collname = 'fold') AS provider`,
    )
  ).rows[0];
  const runs = { page: [] as number[], search: [] as number[], ascii: [] as number[], cUtf8: [] as number[] };
  for (let i = 0; i < 5; i++) {
    runs.page.push(await timed(() => pool.query(page)));
    runs.search.push(await timed(() => pool.query(search)));
    runs.ascii.push(await timed(() => pool.query(scanUnder('"C"'))));
    if (facts.cUtf8) runs.cUtf8.push(await timed(() => pool.query(scanUnder('pg_c_utf8'))));
  }
  const ms = (v: number) => `${v.toFixed(v < 10 ? 2 : 0)} ms`;
  const against = (other: number[], what: string) => `${ms(median(other))} ${what} (×${(median(runs.search) / median(other)).toFixed(2)})`;
  console.log(
    `${label} (PostgreSQL ${facts.server}, fold provider '${facts.provider}', ${KEYS} keys): migration 14 ${ms(migration)}; first page by description ${ms(median(runs.page))}; ` +
      `search ${ms(median(runs.search))}, against ${against(runs.ascii, 'with lower() under "C"')}` +
      (facts.cUtf8 ? `, ${against(runs.cUtf8, 'under pg_c_utf8')}` : ''),
  );
  await pool.end();
}

const newest = await startPostgres();
try {
  await probe('pg_unicode_fast', newest.url);
} finally {
  await newest.destroy();
}
const bin = oldestPostgresBinaries();
if (!bin) throw new Error('PostgreSQL 14 is not installed: run `npx -y pnpm@10.34.9 install`.');
const oldest = await startPostgresFrom(bin);
try {
  await probe('ICU', oldest.url);
} finally {
  await oldest.stop();
}
