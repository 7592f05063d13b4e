// pg_stat_statements for the probes (mix-probe.ts, create-probe.ts): which
// statements PostgreSQL spent its time in, those inside the create procedure
// too. A little of PostgreSQL's CPU is its own, so no `pnpm bench` measure
// runs with it.
import pg from 'pg';
import type { PostgresServer } from '../test/support/postgres-server.js';

/** Restarts `server` with pg_stat_statements loaded, tracking the statements inside procedures too. */
export async function withStatementStats(server: PostgresServer): Promise<void> {
  const root = new pg.Client(server.url);
  await root.connect();
  await root.query(`ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'`);
  // The statements inside the create procedure too, each apart.
  await root.query(`ALTER SYSTEM SET pg_stat_statements.track = 'all'`);
  await root.end();
  await server.stop();
  await server.start();
}

/** The statements that took longest since the last pg_stat_statements_reset(), as lines to print. */
export async function slowestStatements(db: pg.Client): Promise<string[]> {
  const statements = await db.query<{ calls: string; ms: string; each: string; query: string }>(
    `SELECT calls, round(total_exec_time::numeric, 1) AS ms, round((total_exec_time / calls * 1000)::numeric, 1) AS each,
       left(regexp_replace(query, '\\s+', ' ', 'g'), 110) AS query
     FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 12`,
  );
  return ['  statements by time, inside PostgreSQL (calls, ms in all, µs each):', ...statements.rows.map((s) => `    ${s.calls.padStart(7)} ${s.ms.padStart(9)} ${s.each.padStart(8)}  ${s.query}`)];
}
