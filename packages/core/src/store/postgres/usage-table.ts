// Usage as aggregates: each server upserts its own counts per key per minute
// (its rows alone, so servers never contend), the last use ever per key, and
// the client addresses seen. Every answer is the SQL sum over all servers.

import pg from 'pg';
import type { FlushId, KeyUsage, LastUseWritten, UsageCount } from '../boundary.js';
import { MAX_ADDRESSES, writesLastUse } from '../usage-aggregates.js';
import { SCHEMA, type Sql } from './sql.js';

const MINUTE = 60_000;

/** What upsertUsage writes of each key's last use for these counts: what a flush's change names (usedKeyIds) and carries. */
export function lastUsesWritten(counts: readonly UsageCount[]): Map<string, LastUseWritten> {
  const written = new Map<string, LastUseWritten>();
  for (const c of counts) {
    if (!writesLastUse(c)) continue;
    const w = written.get(c.keyId);
    const key = w ?? { lastUsed: c.lastUsed, addresses: [] };
    if (!w) written.set(c.keyId, key);
    key.lastUsed = Math.max(key.lastUsed, c.lastUsed);
    for (const a of c.addresses ?? []) {
      const prev = key.addresses.find((x) => x.address === a.address);
      if (!prev) key.addresses.push({ address: a.address, lastSeen: a.lastSeen });
      else if (prev.lastSeen < a.lastSeen) prev.lastSeen = a.lastSeen;
    }
  }
  return written;
}

/**
 * Adds one server's counts. Same key and minute twice in a batch are added up
 * first (one upsert per row). Its statements are sent at once, in order, and
 * awaited together: on a pipelining connection they cost one round trip.
 */
export async function upsertUsage(sql: Sql, server: string, counts: readonly UsageCount[]): Promise<void> {
  const minutes = new Map<string, { keyId: string; minute: number; uses: number; lastUsed: number }>();
  const written = lastUsesWritten(counts);
  const lastUse = new Map([...written].map(([keyId, w]) => [keyId, w.lastUsed]));
  const addresses = [...written].flatMap(([keyId, w]) => w.addresses.map((a) => ({ keyId, ...a })));
  for (const c of counts) {
    if (!(c.uses > 0)) continue;
    const id = `${c.keyId}\u0000${c.minute}`;
    const m = minutes.get(id);
    if (m) {
      m.uses += c.uses;
      m.lastUsed = Math.max(m.lastUsed, c.lastUsed);
    } else minutes.set(id, { keyId: c.keyId, minute: c.minute, uses: c.uses, lastUsed: c.lastUsed });
  }
  const sent: Promise<unknown>[] = [];
  if (minutes.size > 0) {
    const rows = [...minutes.values()];
    sent.push(
      sql.query(
        `INSERT INTO ${SCHEMA}.usage (key_id, minute, server, uses, last_used)
         SELECT k, m, $3, u, l FROM unnest($1::text[], $2::bigint[], $4::bigint[], $5::bigint[]) AS t(k, m, u, l)
         ON CONFLICT (key_id, minute, server) DO UPDATE SET uses = usage.uses + excluded.uses, last_used = GREATEST(usage.last_used, excluded.last_used)`,
        [rows.map((r) => r.keyId), rows.map((r) => r.minute), server, rows.map((r) => r.uses), rows.map((r) => r.lastUsed)],
      ),
    );
  }
  if (lastUse.size > 0) {
    sent.push(
      sql.query(
        `INSERT INTO ${SCHEMA}.last_use (key_id, last_used) SELECT * FROM unnest($1::text[], $2::bigint[])
         ON CONFLICT (key_id) DO UPDATE SET last_used = GREATEST(last_use.last_used, excluded.last_used)`,
        [[...lastUse.keys()], [...lastUse.values()]],
      ),
    );
  }
  if (addresses.length > 0) {
    sent.push(
      sql.query(
        `INSERT INTO ${SCHEMA}.addresses (key_id, address, last_seen) SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])
         ON CONFLICT (key_id, address) DO UPDATE SET last_seen = GREATEST(addresses.last_seen, excluded.last_seen)`,
        [addresses.map((a) => a.keyId), addresses.map((a) => a.address), addresses.map((a) => a.lastSeen)],
      ),
    );
    // Only the newest five are ever shown: keep no more, however many clients a key has had.
    sent.push(
      sql.query(
        `DELETE FROM ${SCHEMA}.addresses a WHERE a.key_id = ANY($1) AND (a.last_seen, a.address) NOT IN (
           SELECT b.last_seen, b.address FROM ${SCHEMA}.addresses b WHERE b.key_id = a.key_id ORDER BY b.last_seen DESC, b.address LIMIT ${MAX_ADDRESSES})`,
        [[...new Set(addresses.map((a) => a.keyId))]],
      ),
    );
  }
  await Promise.all(sent);
}

/**
 * Notes a flush in its transaction (migration 11): sent first, a flush sent
 * before under the same name makes it fail (flushedBefore), and with it the
 * transaction, so nothing of the flush is written twice. The flusher's
 * earlier flushes are forgotten: it never sends them again. Another
 * session's transaction still writing the same flush (its answer lost, its
 * backend not yet gone) holds this one at the key until it ends.
 */
export function noteFlush(sql: Sql, flush: FlushId): Promise<unknown>[] {
  return [
    sql.query(`INSERT INTO ${SCHEMA}.usage_flushes (flusher, seq) VALUES ($1, $2)`, [flush.by, flush.seq]),
    sql.query(`DELETE FROM ${SCHEMA}.usage_flushes WHERE flusher = $1 AND seq < $2`, [flush.by, flush.seq]),
  ];
}

/** Forgets a flusher that sends no flush again (Store.flusherDone): its latest flush, answered, is never sent again. */
export function forgetFlusher(sql: Sql, by: string): Promise<unknown> {
  return sql.query(`DELETE FROM ${SCHEMA}.usage_flushes WHERE flusher = $1`, [by]);
}

/** Whether a flush is noted (its transaction committed); asked before the flusher's next flush, which forgets it. */
export async function flushThere(sql: Sql, flush: FlushId): Promise<boolean> {
  return (await sql.query(`SELECT 1 FROM ${SCHEMA}.usage_flushes WHERE flusher = $1 AND seq = $2`, [flush.by, flush.seq])).rows.length > 0;
}

/**
 * Whether a flush's transaction failed because the flush was written before:
 * its name is noted (noteFlush), or — its name dropped by a server of the
 * version before, a day on — one of its events is there (fresh ids, written
 * in the flush's own transaction), until retention removes them with the
 * minutes they count.
 */
export const flushedBefore = (e: unknown): boolean =>
  e instanceof pg.DatabaseError && e.code === '23505' && (e.table === 'usage_flushes' || (e.table === 'events' && e.constraint === 'events_id_key'));

/**
 * How long a flush's name is kept past the retention's cut: the minutes it
 * counts are older than its commit by the flushing process's clock, `at` is
 * the database's — a day covers the two clocks drifting apart.
 */
const FLUSHES_KEPT_PAST_CUT = '1 day';

interface UsageRow {
  key_id: string;
  uses: string;
  last_used: string | null;
  addresses: { address: string; lastSeen: number }[] | null;
}

// The newest addresses of each key of the relation `keys` (a key_id column), newest first.
const ADDRESSES = `(SELECT json_agg(json_build_object('address', a.address, 'lastSeen', a.last_seen) ORDER BY a.last_seen DESC, a.address)
   FROM ${SCHEMA}.addresses a WHERE a.key_id = keys.key_id) AS addresses`;

function usageOf(row: UsageRow): KeyUsage {
  const u: KeyUsage = { keyId: row.key_id, uses: Number(row.uses), lastUsedFrom: row.addresses ?? [] };
  if (row.last_used !== null) u.lastUsed = Number(row.last_used);
  return u;
}

/**
 * Uses from the minute holding `since` on, summed over servers, with the last
 * use in that span; keys with no use there are left out unless named.
 */
export async function usageSince(sql: Sql, since: number, keyIds?: readonly string[]): Promise<KeyUsage[]> {
  const from = Math.floor(since / MINUTE);
  const r = keyIds
    ? await sql.query<UsageRow>(
        `SELECT keys.key_id, COALESCE(s.uses, 0) AS uses, s.last_used, ${ADDRESSES}
         FROM unnest($1::text[]) WITH ORDINALITY AS keys(key_id, n)
         LEFT JOIN LATERAL (SELECT sum(uses) AS uses, max(last_used) AS last_used FROM ${SCHEMA}.usage u WHERE u.key_id = keys.key_id AND u.minute >= $2) s ON true
         ORDER BY keys.n`,
        [keyIds, from],
      )
    : await sql.query<UsageRow>(
        `SELECT keys.key_id, keys.uses, keys.last_used, ${ADDRESSES}
         FROM (SELECT key_id, sum(uses) AS uses, max(last_used) AS last_used FROM ${SCHEMA}.usage WHERE minute >= $1 GROUP BY key_id) keys
         ORDER BY keys.key_id`,
        [from],
      );
  return r.rows.map(usageOf);
}

/** Last use ever and the newest addresses of each named key that was ever used. */
export async function lastUsedOf(sql: Sql, keyIds: readonly string[]): Promise<Map<string, KeyUsage>> {
  const r = await sql.query<UsageRow>(
    `SELECT keys.key_id, 0 AS uses, lu.last_used, ${ADDRESSES}
     FROM unnest($1::text[]) AS keys(key_id) JOIN ${SCHEMA}.last_use lu ON lu.key_id = keys.key_id`,
    [keyIds],
  );
  return new Map(r.rows.map((row) => [row.key_id, usageOf(row)]));
}

/**
 * Retention: the minutes go; the last use and addresses are facts about the
 * key and stay. A process's latest flush's name (noteFlush) is kept as long
 * as the minutes it counts, and a day more: a flush sent again while its
 * minutes are kept is found by its name, whether it carries events or not
 * (084853a kept it a day: one with no event sent again later was counted
 * twice), and one sent later still is trimmed by its process of what is
 * past the retention (retention.ts keptAfter). A process that ends with
 * every flush answered forgets its name (forgetFlusher): the sweep is left
 * the names of processes that ended otherwise. A server of the version
 * before still drops names a day old on its sweeps.
 */
export async function removeUsageBefore(sql: Sql, before: number): Promise<void> {
  await Promise.all([
    sql.query(`DELETE FROM ${SCHEMA}.usage WHERE minute < $1`, [Math.floor(before / MINUTE)]),
    sql.query(`DELETE FROM ${SCHEMA}.usage_flushes WHERE at < $1::timestamptz - interval '${FLUSHES_KEPT_PAST_CUT}'`, [new Date(before)]),
  ]);
}

/** Whether no minute older than `before` is left (retention's removal done). */
export async function usageBeforeGone(sql: Sql, before: number): Promise<boolean> {
  return (await sql.query(`SELECT 1 FROM ${SCHEMA}.usage WHERE minute < $1 LIMIT 1`, [Math.floor(before / MINUTE)])).rows.length === 0;
}
