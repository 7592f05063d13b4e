// Building and querying events. Events are appended in commit order, so
// "newest first" is the log read backwards; cursors are event ids.

import { randomBytes } from 'node:crypto';
import { EVENT_TYPES, type EventType, type KeywardEvent } from './domain.js';
import { parseDuration, printable } from './duration.js';
import { refuse } from './refusal.js';
import type { EventQuery, Page } from './service.js';

export function newEvent(type: EventType, now: number, userId: string, keyId: string | undefined, data: Record<string, unknown>): KeywardEvent {
  const e: KeywardEvent = {
    id: now.toString(36).padStart(9, '0') + randomBytes(5).toString('hex'),
    eventType: type,
    eventTime: new Date(now).toISOString(),
    userId,
    data,
  };
  if (keyId) e.keyId = keyId;
  return e;
}

/** A time bound: an ISO time, or a duration meaning that long before now. */
export function parseSince(text: string, now: number, what = 'since'): number {
  const d = parseDuration(text);
  if (d) return now - d.ms;
  const t = Date.parse(text);
  if (/^\d{4}-\d{2}-\d{2}/.test(text) && !Number.isNaN(t)) return t;
  return refuse('INVALID_INPUT', `--${what} takes a duration (1h, P1D) or a time (2026-01-31T12:00:00Z), not "${printable(text)}".`);
}

export function checkEventType(type: string): EventType {
  if (!(EVENT_TYPES as readonly string[]).includes(type)) {
    refuse('INVALID_INPUT', `"${printable(type)}" is not an event type; use one of ${EVENT_TYPES.join(', ')}.`);
  }
  return type as EventType;
}

export function clampLimit(limit: number | undefined, fallback: number, max: number): number {
  if (limit === undefined) return fallback;
  if (!Number.isInteger(limit) || limit < 1 || limit > max) refuse('INVALID_INPUT', `The limit must be a whole number from 1 to ${max}.`);
  return limit;
}

/** Newest first, filtered, one page. */
export function queryEvents(all: readonly KeywardEvent[], q: EventQuery, now: number, maxLimit = 1000): Page<KeywardEvent> {
  const type = q.type === undefined ? undefined : checkEventType(q.type);
  const since = q.since === undefined ? undefined : parseSince(q.since, now);
  const until = q.until === undefined ? undefined : parseSince(q.until, now, 'until');
  const limit = clampLimit(q.limit, 50, maxLimit);
  if (q.startingAfter && q.endingBefore) refuse('INVALID_INPUT', 'Use startingAfter or endingBefore, not both.');
  const sinceIso = since === undefined ? undefined : new Date(since).toISOString();
  const untilIso = until === undefined ? undefined : new Date(until).toISOString();
  const matches: KeywardEvent[] = [];
  for (let i = all.length - 1; i >= 0; i--) {
    const e = all[i];
    if (type && e.eventType !== type) continue;
    if (q.keyId && e.keyId !== q.keyId) continue;
    if (q.userId && e.userId !== q.userId) continue;
    if (sinceIso && e.eventTime < sinceIso) continue;
    if (untilIso && e.eventTime > untilIso) continue;
    matches.push(e);
  }
  return pageOf(matches, q, limit, (e) => e.id);
}

/** One page of an ordered list, by cursor (startingAfter / endingBefore) or offset. */
export function pageOf<T>(rows: readonly T[], q: { startingAfter?: string; endingBefore?: string; offset?: number }, limit: number, idOf: (row: T) => string): Page<T> {
  let start = 0;
  if (q.startingAfter) {
    const i = rows.findIndex((r) => idOf(r) === q.startingAfter);
    if (i < 0) refuse('INVALID_INPUT', `The cursor "${printable(q.startingAfter)}" is not in this list.`);
    start = i + 1;
  } else if (q.endingBefore) {
    const i = rows.findIndex((r) => idOf(r) === q.endingBefore);
    if (i < 0) refuse('INVALID_INPUT', `The cursor "${printable(q.endingBefore)}" is not in this list.`);
    start = Math.max(0, i - limit);
    const data = rows.slice(start, i);
    return withCursors(rows, data, start, idOf);
  } else if (q.offset !== undefined) {
    if (!Number.isInteger(q.offset) || q.offset < 0) refuse('INVALID_INPUT', 'The offset must be a whole number of 0 or more.');
    start = q.offset;
  }
  return withCursors(rows, rows.slice(start, start + limit), start, idOf);
}

function withCursors<T>(rows: readonly T[], data: T[], start: number, idOf: (row: T) => string): Page<T> {
  const page: Page<T> = { data, total: rows.length };
  if (data.length > 0 && start + data.length < rows.length) page.next = idOf(data[data.length - 1]);
  if (data.length > 0 && start > 0) page.prev = idOf(data[0]);
  return page;
}
