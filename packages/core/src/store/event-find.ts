// Finding events in a log held as an array in append order (the memory
// store; the first-format JSON store): newest first, filtered, one page
// either side of a cursor. Stores that keep segments on disk find by time
// instead and never hold the whole log.

import type { KeywardEvent } from '../domain.js';
import { printable } from '../duration.js';
import { refuse } from '../refusal.js';
import type { EventFind, EventPage } from './boundary.js';

export function eventMatcher(q: EventFind): (e: KeywardEvent) => boolean {
  const types = q.types && q.types.length > 0 ? new Set<string>(q.types) : undefined;
  const excluded = q.excludeTypes && q.excludeTypes.length > 0 ? new Set<string>(q.excludeTypes) : undefined;
  const since = q.since === undefined ? undefined : new Date(q.since).toISOString();
  const until = q.until === undefined ? undefined : new Date(q.until).toISOString();
  return (e) =>
    (!types || types.has(e.eventType)) &&
    (!excluded || !excluded.has(e.eventType)) &&
    (q.keyId === undefined || e.keyId === q.keyId) &&
    (q.userId === undefined || e.userId === q.userId) &&
    (since === undefined || e.eventTime >= since) &&
    (until === undefined || e.eventTime <= until);
}

/**
 * One page, newest first (with `oldestFirst` and no cursor, the oldest
 * page). `indexOf` finds a cursor's place in `log`; an event that is not
 * there (any more) is refused as a cursor. The total is counted because the
 * whole log is at hand anyway.
 */
export function findInLog(log: readonly KeywardEvent[], q: EventFind, indexOf: (id: string) => number | undefined): EventPage {
  if (q.startingAfter !== undefined && q.endingBefore !== undefined) refuse('INVALID_INPUT', 'Use startingAfter or endingBefore, not both.');
  const matches = eventMatcher(q);
  const cursor = q.startingAfter ?? q.endingBefore;
  let at: number | undefined;
  if (cursor !== undefined) {
    at = indexOf(cursor);
    if (at === undefined) refuse('INVALID_INPUT', `The cursor "${printable(cursor)}" is not in this list.`);
  }
  const limit = Math.max(0, q.limit);
  let total = 0;
  let newer = 0; // matching events newer than the page
  const page: KeywardEvent[] = [];
  let after = 0; // matching events older than the page
  if (q.endingBefore !== undefined || (q.oldestFirst && cursor === undefined)) {
    // The `limit` matches just newer than the cursor (or the oldest `limit`), still newest first.
    const newerRows: KeywardEvent[] = [];
    for (let i = log.length - 1; i >= 0; i--) {
      if (!matches(log[i])) continue;
      total++;
      if (at === undefined || i > at) newerRows.push(log[i]);
      else after++;
    }
    const start = Math.max(0, newerRows.length - limit);
    return { data: newerRows.slice(start), hasPrev: start > 0, hasNext: after > 0, total };
  }
  const from = at === undefined ? log.length - 1 : at - 1;
  for (let i = log.length - 1; i >= 0; i--) {
    if (!matches(log[i])) continue;
    total++;
    if (i > from) newer++;
    else if (page.length < limit) page.push(log[i]);
    else after++;
  }
  return { data: page, hasPrev: newer > 0, hasNext: after > 0, total };
}
