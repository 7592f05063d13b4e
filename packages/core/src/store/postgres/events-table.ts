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
    [
      events.map((e) => e.id),
      events.map((e) => e.eventType),
      events.map((e) => e.eventTime),
      events.map((e) => e.userId),
      events.map((e) => e.keyId ?? null),
      events.map((e) => JSON.stringify(e)),
    ],
  );
}

export async function findEvents(sql: Sql, q: EventFind): Promise<EventPage> {
  if (q.startingAfter !== undefined && q.endingBefore !== undefined) refuse('INVALID_INPUT', 'Use startingAfter or endingBefore, not both.');
  const values: unknown[] = [];
  const add = (v: unknown) => `$${values.push(v)}`;
  const where: string[] = [];
  if (q.types !== undefined) where.push(`event_type = ANY(${add(q.types)})`);
  if (q.excludeTypes !== undefined && q.excludeTypes.length > 0) where.push(`NOT (event_type = ANY(${add(q.excludeTypes)}))`);
  if (q.keyId !== undefined) where.push(`key_id = ${add(q.keyId)}`);
  if (q.userId !== undefined) where.push(`user_id = ${add(q.userId)}`);
  if (q.since !== undefined) where.push(`event_time >= ${add(new Date(q.since))}`);
  if (q.until !== undefined) where.push(`event_time <= ${add(new Date(q.until))}`);

  const cursorId = q.startingAfter ?? q.endingBefore;
  const backwards = q.endingBefore !== undefined;
  if (cursorId !== undefined) {
    const c = await sql.query<{ seq: string }>(`SELECT seq FROM ${SCHEMA}.events WHERE ${[...where, `id = ${add(cursorId)}`].join(' AND ')}`, values);
    values.pop();
    if (c.rows.length === 0) refuse('INVALID_INPUT', `The cursor "${printable(cursorId)}" is not in this list.`);
    where.push(`seq ${backwards ? '>' : '<'} ${add(c.rows[0].seq)}`);
  }
  const limit = Math.max(0, Math.floor(q.limit));
  const r = await sql.query<{ record: KeywardEvent }>(
    `SELECT record FROM ${SCHEMA}.events${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY seq ${backwards ? 'ASC' : 'DESC'} LIMIT ${add(limit + 1)}`,
    values,
  );
  const more = r.rows.length > limit;
  const data = r.rows.slice(0, limit).map((row) => row.record);
  if (backwards) return { data: data.reverse(), hasNext: true, hasPrev: more };
  return { data, hasNext: more, hasPrev: cursorId !== undefined };
}

export async function removeEventsBefore(sql: Sql, before: number): Promise<void> {
  await sql.query(`DELETE FROM ${SCHEMA}.events WHERE event_time < $1`, [new Date(before)]);
}
