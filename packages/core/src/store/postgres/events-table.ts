// Events: appended, never changed; found newest first by type, key, user and
// time, with event ids as cursors; removed only by retention.

import type { KeywardEvent } from '../../domain.js';
import { printable } from '../../duration.js';
import { refuse } from '../../refusal.js';
import type { EventFind, EventPage } from '../boundary.js';
import { SCHEMA, type Sql } from './sql.js';

export async function insertEvents(sql: Sql, events: readonly KeywardEvent[]): Promise<void> {
  if (events.length === 0) return;
  // One statement for the batch: one round trip however many there are;
  // unnest yields the rows in array order, so seq keeps the order they were emitted in.
  await sql.query(
    `INSERT INTO ${SCHEMA}.events (id, event_type, event_time, user_id, key_id, record)
     SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::jsonb[])`,
    eventColumns(events),
  );
}

/** Events as the events table's columns, one array each: id, event_type, event_time, user_id, key_id, record. */
export function eventColumns(events: readonly KeywardEvent[]): unknown[][] {
  return [
    events.map((e) => e.id),
    events.map((e) => e.eventType),
    events.map((e) => e.eventTime),
    events.map((e) => e.userId),
    events.map((e) => e.keyId ?? null),
    events.map((e) => JSON.stringify(e)),
  ];
}

/** Whether an event with this id was appended (and not yet removed by retention). */
export async function eventThere(sql: Sql, id: string): Promise<boolean> {
  return (await sql.query(`SELECT 1 FROM ${SCHEMA}.events WHERE id = $1`, [id])).rows.length > 0;
}

export async function findEvents(sql: Sql, q: EventFind): Promise<EventPage> {
  if (q.startingAfter !== undefined && q.endingBefore !== undefined) refuse('INVALID_INPUT', 'Use startingAfter or endingBefore, not both.');
  const values: unknown[] = [];
  const add = (v: unknown) => `$${values.push(v)}`;
  const where: string[] = [];
  if (q.types !== undefined && q.types.length > 0) where.push(`event_type = ANY(${add(q.types)})`);
  if (q.excludeTypes !== undefined && q.excludeTypes.length > 0) where.push(`NOT (event_type = ANY(${add(q.excludeTypes)}))`);
  if (q.keyId !== undefined) where.push(`key_id = ${add(q.keyId)}`);
  if (q.userId !== undefined) where.push(`user_id = ${add(q.userId)}`);
  if (q.since !== undefined) where.push(`event_time >= ${add(new Date(q.since))}`);
  if (q.until !== undefined) where.push(`event_time <= ${add(new Date(q.until))}`);

  const cursorId = q.startingAfter ?? q.endingBefore;
  const limit = Math.max(0, Math.floor(q.limit));
  const filter = where.length ? ` AND ${where.join(' AND ')}` : '';
  if (cursorId === undefined) {
    // The newest page, or with oldestFirst the oldest (in the same order as every page: newest first).
    const oldest = q.oldestFirst === true;
    const r = await sql.query<{ record: KeywardEvent }>(`SELECT record FROM ${SCHEMA}.events WHERE true${filter} ORDER BY seq ${oldest ? 'ASC' : 'DESC'} LIMIT ${add(limit + 1)}`, values);
    const data = r.rows.slice(0, limit).map((row) => row.record);
    const more = r.rows.length > limit;
    return oldest ? { data: data.reverse(), hasNext: false, hasPrev: more } : { data, hasNext: more, hasPrev: false };
  }
  // Any event still kept is a cursor, matching the filter or not; one retention removed is refused.
  const c = await sql.query<{ seq: string }>(`SELECT seq FROM ${SCHEMA}.events WHERE id = $1`, [cursorId]);
  if (c.rows.length === 0) refuse('INVALID_INPUT', `The cursor "${printable(cursorId)}" is not in this list.`);
  const seq = add(c.rows[0].seq);
  const older = q.startingAfter !== undefined;
  const page = await sql.query<{ record: KeywardEvent }>(
    `SELECT record FROM ${SCHEMA}.events WHERE seq ${older ? '<' : '>'} ${seq}${filter} ORDER BY seq ${older ? 'DESC' : 'ASC'} LIMIT ${add(limit + 1)}`,
    values,
  );
  values.pop();
  // The other side of the cursor, the cursor itself included.
  const side = await sql.query<{ any: boolean }>(`SELECT EXISTS (SELECT 1 FROM ${SCHEMA}.events WHERE seq ${older ? '>=' : '<='} ${seq}${filter}) AS any`, values);
  const more = page.rows.length > limit;
  const data = page.rows.slice(0, limit).map((row) => row.record);
  if (older) return { data, hasNext: more, hasPrev: side.rows[0].any };
  return { data: data.reverse(), hasNext: side.rows[0].any, hasPrev: more };
}

export async function removeEventsBefore(sql: Sql, before: number): Promise<void> {
  await sql.query(`DELETE FROM ${SCHEMA}.events WHERE event_time < $1`, [new Date(before)]);
}

/** Whether no event older than `before` is left (retention's removal done). */
export async function eventsBeforeGone(sql: Sql, before: number): Promise<boolean> {
  return (await sql.query(`SELECT 1 FROM ${SCHEMA}.events WHERE event_time < $1 LIMIT 1`, [new Date(before)])).rows.length === 0;
}
