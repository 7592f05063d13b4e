// Every event a store holds matching a question, oldest first, paged through
// the boundary — for a copy of a whole store (store/copy.ts), and for tests,
// tools and checks that must see the whole history (the use cases never need
// it: they ask for one page).
import type { KeywardEvent } from '../domain.js';
import type { EventFind, Store } from './boundary.js';

type EventQuestion = Omit<EventFind, 'limit' | 'startingAfter' | 'endingBefore'>;

/**
 * The events, oldest first, a page (at most `pageSize`, oldest first) at a
 * time, holding one page in memory however long the history: the boundary
 * pages newest first, so a first walk notes only where each page starts,
 * and a second reads the pages again from the oldest. The history as of the
 * first walk: the newest page is kept from it, so events appended meanwhile
 * are left out, never one skipped. `counting`: told the events counted so
 * far after each page of the first walk, and all of them (`done`) at its end.
 */
export async function* eventPagesOldestFirst(store: Store, q: EventQuestion = {}, pageSize = 1000, counting?: (events: number, done: boolean) => void): AsyncGenerator<KeywardEvent[]> {
  const newest = await store.findEvents({ ...q, limit: pageSize });
  // cursors[i]: the last event of page i, where page i + 1 starts.
  const cursors: string[] = [];
  let events = newest.data.length;
  for (let page = newest; page.hasNext && page.data.length > 0; ) {
    const cursor = page.data[page.data.length - 1].id;
    cursors.push(cursor);
    counting?.(events, false);
    page = await store.findEvents({ ...q, limit: pageSize, startingAfter: cursor });
    events += page.data.length;
  }
  counting?.(events, true);
  for (let i = cursors.length - 1; i >= 0; i--) {
    const page = await store.findEvents({ ...q, limit: pageSize, startingAfter: cursors[i] });
    if (page.data.length > 0) yield page.data.reverse();
  }
  if (newest.data.length > 0) yield newest.data.reverse();
}

/** Every event matching `q`, oldest first, in one array (a test's or a check's whole history). */
export async function allEvents(store: Store, q: EventQuestion = {}): Promise<KeywardEvent[]> {
  const out: KeywardEvent[] = [];
  for await (const page of eventPagesOldestFirst(store, q)) out.push(...page);
  return out;
}
