// Building events, and turning the faces' event queries into the store's
// questions (newest first; cursors are event ids).

import { EVENT_TYPES, type EventType, type KeywardEvent } from './domain.js';
import { parseDuration, printable } from './duration.js';
import { randomHex } from './random.js';
import { refuse } from './refusal.js';
import type { EventQuery, Page } from './service.js';
import type { EventFind, EventPage } from './store/boundary.js';

export function newEvent(type: EventType, now: number, userId: string, keyId: string | undefined, data: Record<string, unknown>): KeywardEvent {
  const e: KeywardEvent = {
    id: now.toString(36).padStart(9, '0') + randomHex(5),
    eventType: type,
    eventTime: new Date(now).toISOString(),
    userId,
    data,
  };
  if (keyId) e.keyId = keyId;
  return e;
}

/** The batches written at every usage flush: most of the log, and rarely what an admin looks for. */
export const USAGE_EVENT_TYPES: readonly EventType[] = ['api-key.used', 'api-key.auth-failed'];

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

/** An events query (as faces send it) checked and turned into the store's question. */
export function eventFindOf(q: EventQuery, now: number, maxLimit = 1000): EventFind {
  const find: EventFind = { limit: clampLimit(q.limit, 50, maxLimit) };
  if (q.type !== undefined) find.types = [checkEventType(q.type)];
  if (q.since !== undefined) find.since = parseSince(q.since, now);
  if (q.until !== undefined) find.until = parseSince(q.until, now, 'until');
  if (q.startingAfter && q.endingBefore) refuse('INVALID_INPUT', 'Use startingAfter or endingBefore, not both.');
  if (q.hideUsage) find.excludeTypes = USAGE_EVENT_TYPES;
  if (q.keyId) find.keyId = q.keyId;
  if (q.userId) find.userId = q.userId;
  if (q.startingAfter) find.startingAfter = q.startingAfter;
  if (q.endingBefore) find.endingBefore = q.endingBefore;
  return find;
}

/**
 * The store's page as faces see it. A store that cannot count without
 * reading everything (day segments) gives no total; then the total counts
 * what is known to exist: this page and one more row on each side that has one.
 */
export function eventPageOf(p: EventPage): Page<KeywardEvent> {
  const page: Page<KeywardEvent> = { data: p.data, total: p.total ?? p.data.length + (p.hasNext ? 1 : 0) + (p.hasPrev ? 1 : 0) };
  if (p.hasNext && p.data.length > 0) page.next = p.data[p.data.length - 1].id;
  if (p.hasPrev && p.data.length > 0) page.prev = p.data[0].id;
  return page;
}
