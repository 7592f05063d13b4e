// Keys: single records by id, an owner's keys, the active count the key
// limit checks, and findKeys — filters, every list order, keyset cursors and
// offsets — answered by indexes, never by reading every key into memory.

import type { ApiKey } from '../../domain.js';
import { printable } from '../../duration.js';
import { refuse } from '../../refusal.js';
import { isKeyId, mayBeInKeyId } from '../../token.js';
import type { FoundPage, KeyFind, KeyOrder } from '../boundary.js';
import { type RowLock, SCHEMA, type Sql, folded, likeContains, searchedText } from './sql.js';

const COLUMNS = 'k.record';

export async function readKey(sql: Sql, id: string, lock: RowLock = ''): Promise<ApiKey | undefined> {
  const r = await sql.query<{ record: ApiKey }>(`SELECT record FROM ${SCHEMA}.keys k WHERE id = $1 ${lock}`, [id]);
  return r.rows[0]?.record;
}

export async function readKeysByIdPrefix(sql: Sql, prefix: string, limit: number): Promise<ApiKey[]> {
  const r = await sql.query<{ record: ApiKey }>(
    `SELECT record FROM ${SCHEMA}.keys WHERE id LIKE $1 ORDER BY id LIMIT $2`,
    [`${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`, limit],
  );
  return r.rows.map((row) => row.record);
}

export async function readKeysOf(sql: Sql, owner: string, lock: RowLock = ''): Promise<ApiKey[]> {
  const r = await sql.query<{ record: ApiKey }>(`SELECT record FROM ${SCHEMA}.keys WHERE owner = $1 ORDER BY created DESC, id ${lock}`, [owner]);
  return r.rows.map((row) => row.record);
}

/**
 * The mark of an owner's keys (owner $1): the changes to them (migration 9)
 * plus their number, as migration 10's check compares it. Every write that
 * can make the owner's active keys more moves it (one that adds a key but
 * does not count its change, too: migrations.ts COUNTS_AS_SEEN_BY_MARK).
 */
const CHANGE_MARK = `(SELECT changes + n FROM ${SCHEMA}.key_counts WHERE owner = $1)`;

/** How much a create of `made` keys for one owner moves that owner's mark: each adds a key and a change. */
export function markAfterMaking(made: number): number {
  return 2 * made;
}

/**
 * The owner's active count, with the mark of the owner's keys (CHANGE_MARK)
 * of the same snapshot: while that is the database's still, the owner's keys
 * are the ones counted, or fewer (expectations.ts).
 */
export async function countActive(sql: Sql, owner: string, now: number): Promise<{ n: number; changes: number }> {
  const r = await sql.query<{ n: string; changes: string | null }>(
    `SELECT count(*) AS n, ${CHANGE_MARK} AS changes
     FROM ${SCHEMA}.keys WHERE owner = $1 AND revoked_at IS NULL AND expiry > $2`,
    [owner, new Date(now)],
  );
  return { n: Number(r.rows[0].n), changes: Number(r.rows[0].changes ?? 0) };
}

/**
 * The active count; until when it holds without a write (the first of those
 * keys to expire); and when the owner's newest key, of any status, was made
 * — all of one snapshot: a key made later than that is not in the count
 * (record-cache.ts adds such a key to the count instead of counting again);
 * and the mark of the owner's keys, as countActive's.
 */
export async function countActiveUntil(sql: Sql, owner: string, now: number): Promise<{ n: number; until: number; newest: number | undefined; changes: number }> {
  const r = await sql.query<{ n: string; until: Date | null; newest: Date | null; changes: string | null }>(
    `SELECT count(*) AS n, min(expiry) AS until, (SELECT max(created) FROM ${SCHEMA}.keys WHERE owner = $1) AS newest,
            ${CHANGE_MARK} AS changes
     FROM ${SCHEMA}.keys WHERE owner = $1 AND revoked_at IS NULL AND expiry > $2`,
    [owner, new Date(now)],
  );
  const row = r.rows[0];
  return { n: Number(row.n), until: row.until?.getTime() ?? Number.POSITIVE_INFINITY, newest: row.newest?.getTime(), changes: Number(row.changes ?? 0) };
}

/** Inserts or replaces keys: one statement for the lot (a copy, a bulk revoke), however many. */
export async function writeKeys(sql: Sql, keys: readonly ApiKey[]): Promise<void> {
  if (keys.length === 0) return;
  // Rows are written, and count_keys locks each owner's row of key counts, in the order given: in owner order, two
  // writes over the same owners (bulk revokes by two admins) lock them in one order instead of deadlocking.
  if (keys.length > 1) keys = [...keys].sort((x, y) => (x.owner < y.owner ? -1 : x.owner > y.owner ? 1 : x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
  await sql.query(
    `INSERT INTO ${SCHEMA}.keys (id, owner, created_by, description, created, expiry, revoked_at, record)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[], $7::timestamptz[], $8::jsonb[])
     ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, created_by = excluded.created_by, description = excluded.description,
       created = excluded.created, expiry = excluded.expiry, revoked_at = excluded.revoked_at, record = excluded.record`,
    keyColumns(keys),
  );
}

/** Keys as the keys table's columns, one array each, in table order: id, owner, created_by, description, created, expiry, revoked_at, record. */
export function keyColumns(keys: readonly ApiKey[]): unknown[][] {
  return [
    keys.map((k) => k.id),
    keys.map((k) => k.owner),
    keys.map((k) => k.createdBy),
    keys.map((k) => k.description),
    keys.map((k) => k.created),
    keys.map((k) => k.expiry),
    keys.map((k) => k.revokedAt ?? null),
    keys.map((k) => JSON.stringify(k)),
  ];
}

/**
 * Whether keys a transaction put are there as it wrote them: all of them
 * (true), none of their ids (false), or some (undefined: that cannot tell
 * whether it committed, or whether others changed them since).
 */
export async function keysThereAsWritten(sql: Sql, keys: readonly ApiKey[]): Promise<boolean | undefined> {
  const r = await sql.query<{ same: string; there: string }>(
    `SELECT count(*) FILTER (WHERE k.record = w.record) AS same, count(k.id) AS there
     FROM unnest($1::text[], $2::jsonb[]) AS w(id, record) LEFT JOIN ${SCHEMA}.keys k ON k.id = w.id`,
    [keys.map((k) => k.id), keys.map((k) => JSON.stringify(k))],
  );
  const { same, there } = r.rows[0];
  return Number(same) === keys.length ? true : Number(there) === 0 ? false : undefined;
}

export async function removeKey(sql: Sql, id: string): Promise<void> {
  await sql.query(`DELETE FROM ${SCHEMA}.keys WHERE id = $1`, [id]);
}

/**
 * Every key the question matches. Without a filter (or with only an owner)
 * the per-owner counts answer it, so the first page of a million keys costs
 * what it costs for a thousand; a status, creator or search is counted.
 */
function countOf(sql: Sql, q: KeyFind, search: SearchIndex): Promise<number> {
  if (countedPerOwner(q)) {
    const p = new Params();
    return sql.query<{ n: string | null }>(`SELECT ${perOwnerCount(q, p)} AS n`, p.values).then((x) => Number(x.rows[0]?.n ?? 0));
  }
  const p = new Params();
  const where = whereOf(q, p, search);
  return sql.query<{ n: string }>(`SELECT count(*) AS n FROM ${SCHEMA}.keys k WHERE ${where.join(' AND ')}`, p.values).then((r) => Number(r.rows[0].n));
}

/** Whether the per-owner counts answer the question's total (no status, creator or search). */
export function countedPerOwner(q: Pick<KeyFind, 'status' | 'createdBy' | 'search'>): boolean {
  return q.status === undefined && q.createdBy === undefined && !q.search?.trim();
}

/** The per-owner counts' answer to the question's total, as a scalar subquery. */
function perOwnerCount(q: KeyFind, p: Params): string {
  return q.owner === undefined
    ? `(SELECT sum(n) FROM ${SCHEMA}.key_counts)`
    : `(SELECT n FROM ${SCHEMA}.key_counts WHERE owner = ${p.add(q.owner)})`;
}

/** Numbered parameters, collected as the query is written. */
class Params {
  readonly values: unknown[] = [];
  add(v: unknown): string {
    this.values.push(v);
    return `$${this.values.length}`;
  }
}

/** One ORDER BY term: an expression and whether it ascends. */
type Term = { expr: string; asc: boolean };

function orderValue(order: KeyOrder, p: Params, now: number): string {
  switch (order) {
    case 'created':
      return 'k.created';
    case 'description':
      return folded('k.description');
    // Alphabetical, as the statuses read: active, expired, revoked (revoked wins over expired).
    case 'status':
      return `(CASE WHEN k.revoked_at IS NOT NULL THEN 2 WHEN k.expiry <= ${p.add(new Date(now))} THEN 1 ELSE 0 END)`;
    case 'sub':
      return 'k.owner';
    case 'createdByUser':
      return 'k.created_by';
    case 'expiry':
      return 'k.expiry';
    // Never used sorts as the oldest use.
    case 'lastUsed':
      return 'COALESCE(lu.last_used, -1)';
  }
}

/** The value, then newest first, then id: a total order, so keyset paging never skips or repeats. */
function termsFor(order: KeyOrder, descending: boolean, p: Params, now: number): Term[] {
  const terms: Term[] = [{ expr: orderValue(order, p, now), asc: !descending }];
  if (order !== 'created') terms.push({ expr: 'k.created', asc: false });
  terms.push({ expr: 'k.id', asc: true });
  return terms;
}

/** Whether this server found the search index (migration 15) on the schema: a store learns it as it starts. (The ids' index, migration 16, needs no flag: the same statement reads it where it is there.) */
export interface SearchIndex {
  indexed: boolean;
}

// pg_trgm takes a pattern's trigrams: one shorter than three characters has none, and the index would be read whole.
const SHORTEST_INDEXED_SEARCH = 3;

/**
 * The keys an index says may hold `search` (`like`: its LIKE pattern), or
 * undefined where no index can say: the search index finds those whose
 * searched text may; where the search may be in an id, the ids' own trigram
 * index (migration 16) also finds the ids that may hold it (a whole id, the
 * primary key's; on a schema without that index yet, the primary key's read
 * whole: a tenth of the table).
 */
function foundByIndex(search: string, like: string, p: Params): string | undefined {
  if ([...search].length < SHORTEST_INDEXED_SEARCH) return undefined;
  if (!mayBeInKeyId(search)) return `${searchedText('k')} LIKE ${like}`;
  const inIds = isKeyId(search) ? `s.id = ${p.add(search)}` : `s.id LIKE ${like}`;
  return `k.id IN (SELECT s.id FROM ${SCHEMA}.keys s WHERE ${searchedText('s')} LIKE ${like} UNION ALL SELECT s.id FROM ${SCHEMA}.keys s WHERE ${inIds})`;
}

function whereOf(q: KeyFind, p: Params, index: SearchIndex): string[] {
  const where: string[] = [];
  if (q.owner !== undefined) where.push(`k.owner = ${p.add(q.owner)}`);
  if (q.createdBy !== undefined) where.push(`k.created_by = ${p.add(q.createdBy)}`);
  if (q.status === 'revoked') where.push('k.revoked_at IS NOT NULL');
  else if (q.status === 'expired') where.push(`k.revoked_at IS NULL AND k.expiry <= ${p.add(new Date(q.now))}`);
  else if (q.status === 'active') where.push(`k.revoked_at IS NULL AND k.expiry > ${p.add(new Date(q.now))}`);
  const search = q.search?.trim().toLowerCase();
  if (search) {
    const like = p.add(likeContains(search));
    const found = index.indexed ? foundByIndex(search, like, p) : undefined;
    if (found) where.push(found);
    // The three fields themselves decide.
    where.push(`(${folded('k.description')} LIKE ${like} OR k.id LIKE ${like} OR ${folded('k.owner')} LIKE ${like})`);
  }
  return where;
}

/**
 * Rows after the cursor in the order of `terms`: for each term, the terms
 * before it equal and this one past it. The first term's bound is repeated on
 * its own so the index scan starts at the cursor instead of filtering up to it.
 */
function afterCursor(terms: Term[], cursor: unknown[], p: Params): string {
  const ors: string[] = [];
  for (let i = 0; i < terms.length; i++) {
    const parts = terms.slice(0, i).map((t, j) => `${t.expr} = ${p.add(cursor[j])}`);
    parts.push(`${terms[i].expr} ${terms[i].asc ? '>' : '<'} ${p.add(cursor[i])}`);
    ors.push(`(${parts.join(' AND ')})`);
  }
  const first = `${terms[0].expr} ${terms[0].asc ? '>=' : '<='} ${p.add(cursor[0])}`;
  return `${first} AND (${ors.join(' OR ')})`;
}

const orderBy = (terms: Term[]) => terms.map((t) => `${t.expr} ${t.asc ? 'ASC' : 'DESC'}`).join(', ');
const FROM = `${SCHEMA}.keys k LEFT JOIN ${SCHEMA}.last_use lu ON lu.key_id = k.id`;

export async function findKeys(sql: Sql, q: KeyFind, search: SearchIndex): Promise<FoundPage<ApiKey>> {
  if (q.startingAfter !== undefined && q.endingBefore !== undefined) refuse('INVALID_INPUT', 'Use startingAfter or endingBefore, not both.');
  if (q.offset !== undefined && (!Number.isInteger(q.offset) || q.offset < 0)) refuse('INVALID_INPUT', 'The offset must be a whole number of 0 or more.');
  const order = q.order ?? 'created';
  const limit = Math.max(0, Math.floor(q.limit));

  const p = new Params();
  const where = whereOf(q, p, search);
  const forwards = termsFor(order, q.descending === true, p, q.now);
  const cursorId = q.startingAfter ?? q.endingBefore;
  if (cursorId === undefined) {
    const offset = q.offset ?? 0;
    // The per-owner count goes in the page's own statement: one round trip,
    // and the total is of the same snapshot as the rows (record-cache.ts
    // adds a key made later to both).
    const inline = countedPerOwner(q) ? `, ${perOwnerCount(q, p)} AS total` : '';
    const r = await sql.query<{ record: ApiKey; total?: string | null }>(
      `SELECT ${COLUMNS}${inline} FROM ${FROM}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ${orderBy(forwards)} LIMIT ${p.add(limit + 1)} OFFSET ${p.add(offset)}`,
      p.values,
    );
    // No row carries the count: past the end (or no keys at all), it is asked on its own.
    const n = inline && r.rows.length > 0 ? Number(r.rows[0].total ?? 0) : await countOf(sql, q, search);
    return { data: r.rows.slice(0, limit).map((row) => row.record), total: n, hasNext: r.rows.length > limit, hasPrev: offset > 0 && n > 0 };
  }

  const total = countOf(sql, q, search);
  // A refusal below must not leave this rejection unhandled.
  total.catch(() => undefined);

  // A true keyset cursor: the key's own values place it, so a key that left
  // the list meanwhile (revoked while paging active keys) still works; an id
  // that names no key is refused.
  const pp = new Params();
  const probe = await sql.query<Record<string, unknown>>(
    `SELECT ${termsFor(order, q.descending === true, pp, q.now).map((t, i) => `${t.expr} AS t${i}`).join(', ')} FROM ${FROM} WHERE k.id = ${pp.add(cursorId)}`,
    pp.values,
  );
  if (probe.rows.length === 0) refuse('INVALID_INPUT', `The cursor "${printable(cursorId)}" is not in this list.`);
  const at = forwards.map((_, i) => probe.rows[0][`t${i}`]);
  const backwards = forwards.map((t) => ({ expr: t.expr, asc: !t.asc }));
  // The page runs away from the cursor; the other side is asked only whether it has a row.
  const [away, toward] = q.startingAfter !== undefined ? [forwards, backwards] : [backwards, forwards];
  const pageParams = new Params();
  pageParams.values.push(...p.values);
  const pageWhere = [...where, afterCursor(away, at, pageParams)];
  const page = sql.query<{ record: ApiKey }>(
    `SELECT ${COLUMNS} FROM ${FROM} WHERE ${pageWhere.join(' AND ')} ORDER BY ${orderBy(away)} LIMIT ${pageParams.add(limit + 1)}`,
    pageParams.values,
  );
  page.catch(() => undefined);
  const sideParams = new Params();
  sideParams.values.push(...p.values);
  const side = await sql.query<{ any: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM ${FROM} WHERE ${[...where, `((${afterCursor(toward, at, sideParams)}) OR k.id = ${sideParams.add(cursorId)})`].join(' AND ')}) AS any`,
    sideParams.values,
  );
  const r = await page;
  const more = r.rows.length > limit;
  const data = r.rows.slice(0, limit).map((row) => row.record);
  const other = side.rows[0].any;
  const n = await total;
  if (q.startingAfter !== undefined) return { data, total: n, hasNext: more, hasPrev: other };
  return { data: data.reverse(), total: n, hasNext: other, hasPrev: more };
}
