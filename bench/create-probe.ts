// Where one client's creates on PostgreSQL spend their time, against the
// least a durable commit costs on the same server (bench/postgres.ts create
// measures only their rate, against better-auth's): `node --import tsx
// bench/create-probe.ts [--creates N] [--rounds N]`. Prints figures only; not
// a `pnpm bench` measure.
//
// In this process, on an embedded PostgreSQL 18 (fsync on) holding 1k keys
// (bench/fixtures.ts), alternately for --rounds rounds of --creates each:
//   create        the engine's generateKey, one after another, as
//                 bench/postgres.ts create makes them: µs per create, and
//                 this process's CPU per create;
//   insert        a bare one-row INSERT into a table of its own, committed
//                 durably, on a connection of its own: one round trip and
//                 one fsync'd commit, the floor under any durable write;
//   insert async  the same with synchronous_commit off: the round trip
//                 without the wait for the disk;
//   writes        a create's rows alone — its key and its event, the
//                 owner's key count and the change count bumped — as one
//                 bare durable statement, the create procedure's own
//                 (read from it) without its locks, checks and NOTIFY, on a
//                 database of its own (a copy of the same keys, the
//                 counting triggers that the procedure skips disabled), so
//                 that the engine's caches never see those changes: the
//                 create less this is what the procedure and this
//                 process add to the writes.
// Then, from pg_stat_statements (which this probe's server loads), the
// statements that took longest in the rounds, those inside the create
// procedure too: the CALL's time less its statements' is its commit and the
// procedure's own machinery.
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { type Engine, createEngine, newEvent, newKeyId, openStore } from '../packages/core/src/index.js';
import { startPostgres } from '../test/support/postgres-server.js';
import { buildStore, postgresCopyOf } from './fixtures.js';
import { median } from './lib.js';
import { slowestStatements, withStatementStats } from './pg-statements.js';

const { values: opts } = parseArgs({ options: { creates: { type: 'string', default: '1000' }, rounds: { type: 'string', default: '5' } } });
const CREATES = Number(opts.creates);
const ROUNDS = Number(opts.rounds);
const WARM = 3000;

/**
 * The create procedure's writes as one statement of their own, taken from the
 * procedure the database holds (so they are the ones a create runs, whatever
 * migration defined it last): its WITH … INSERT, its two record arguments
 * made parameters, without the RETURNING … INTO that feeds the NOTIFY.
 */
async function createWrites(c: pg.Client): Promise<string> {
  const { body } = (await c.query<{ body: string }>(`SELECT pg_get_functiondef('keyward.put_counted_keys_and_announce'::regproc) AS body`)).rows[0];
  const writes = /WITH made AS \([\s\S]*?(?=\s+RETURNING keyward\.change_count\.slot)/.exec(body)?.[0];
  if (!writes || !writes.includes('new_records') || !writes.includes('event_records')) throw new Error("The create procedure's writes are not where this probe looks for them: see migrations.ts.");
  return writes.replaceAll('new_records', '$1::jsonb').replaceAll('event_records', '$2::jsonb');
}

const server = await startPostgres();
const clients: pg.Client[] = [];
let engine: Engine | undefined;
const client = async (url: string) => {
  const c = new pg.Client(url);
  await c.connect();
  clients.push(c);
  return c;
};
try {
  await withStatementStats(server);
  const built = buildStore(1000);
  const url = await postgresCopyOf(server.url, 'keyward_create_probe', built);
  const writesDb = await client(await postgresCopyOf(server.url, 'keyward_create_probe_writes', built));
  // The procedure counts its keys and its change itself, and tells these triggers to skip it.
  await writesDb.query('ALTER TABLE keyward.keys DISABLE TRIGGER keys_counted, DISABLE TRIGGER keys_change_counted');
  const writesStatement = await createWrites(writesDb);
  const db = await client(url);
  await db.query('CREATE EXTENSION pg_stat_statements');
  await db.query('CREATE TABLE create_probe_floor (id bigserial PRIMARY KEY, x text NOT NULL)');
  const durable = await client(url);
  const lazy = await client(url);
  await lazy.query('SET synchronous_commit = off');

  const creating = createEngine(await openStore(url), { usageFlushMs: 0 });
  engine = creating;
  let n = 0;
  // The creates' owners in turn (100 of them, 10 keys each to begin with): no owner nears the key limit.
  const create = () => creating.as(`dev${n++ % 100}`).generateKey({ description: `probe ${n}` });
  /** A create's rows as the create procedure writes them (its statement, the counting included), durably, alone. */
  const writes = () => {
    const at = Date.now();
    const [created, expiry] = [new Date(at).toISOString(), new Date(at + 30 * 86_400_000).toISOString()];
    const owner = `dev${n++ % 100}`;
    const key = { id: newKeyId(), description: `probe ${n}`, owner, createdBy: owner, created, lastUpdated: created, expiry, hash: randomBytes(32).toString('hex') };
    const event = newEvent('api-key.generated', at, owner, key.id, { description: key.description, sub: owner, expiry, lifetime: 'P30D' });
    return writesDb.query({ name: 'writes', text: writesStatement, values: [JSON.stringify([key]), JSON.stringify([event])] });
  };
  const insert = (c: pg.Client) => c.query({ name: 'floor', text: 'INSERT INTO create_probe_floor (x) VALUES ($1)', values: ['probe'] });
  /** µs per call of `f`, over `times` calls one after another; with this process's CPU per call. */
  const timed = async (times: number, f: () => Promise<unknown>) => {
    const [at, cpu] = [performance.now(), process.cpuUsage()];
    for (let i = 0; i < times; i++) await f();
    const used = process.cpuUsage(cpu);
    return { us: ((performance.now() - at) * 1000) / times, cpu: (used.user + used.system) / times };
  };

  // V8 keeps compiling the engine's code over its first thousands of creates (bench/postgres.ts).
  await timed(WARM, create);
  await timed(WARM / 4, () => insert(durable));
  await timed(WARM / 4, () => insert(lazy));
  await timed(WARM / 4, writes);
  await db.query('SELECT pg_stat_statements_reset()');
  const rounds = { create: [] as number[], cpu: [] as number[], writes: [] as number[], insert: [] as number[], lazy: [] as number[] };
  for (let r = 0; r < ROUNDS; r++) {
    const c = await timed(CREATES, create);
    rounds.create.push(c.us);
    rounds.cpu.push(c.cpu);
    rounds.writes.push((await timed(CREATES, writes)).us);
    rounds.insert.push((await timed(CREATES, () => insert(durable))).us);
    rounds.lazy.push((await timed(CREATES, () => insert(lazy))).us);
  }
  const us = (xs: number[]) => `${Math.round(median(xs))} µs (${xs.map(Math.round).join(', ')})`;
  console.log(`medians of ${ROUNDS} rounds of ${CREATES}, one after another:`);
  console.log(`  create:        ${us(rounds.create)}; this process's CPU ${us(rounds.cpu)}`);
  console.log(`  writes:        ${us(rounds.writes)}`);
  console.log(`  insert:        ${us(rounds.insert)}`);
  console.log(`  insert async:  ${us(rounds.lazy)}`);
  console.log((await slowestStatements(db)).join('\n'));
} finally {
  await engine?.close();
  await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
  await server.destroy();
}
