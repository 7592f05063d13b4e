// Every event a store holds matching a question, oldest first, paged through
// the boundary — for a copy of a whole store (store/copy.ts), and for tests,
// tools and checks that must see the whole history (the use cases never need
// it: they ask for one page).
import type { KeywardEvent } from '../domain.js';
import type { EventFind, Store } from './boundary.js';

type EventQuestion = Omit<EventFind, 'limit' | 'startingAfter' | 'endingBefore' | 'oldestFirst'>;

/**
 * The events, oldest first, a page (at most `pageSize`, oldest first) at a
 * time, holding one page in memory however long the history: the oldest
 * page first (EventFind.oldestFirst), then each page just newer than the
 * last (endingBefore), so each event is read once. The history as of the
 * start: the walk ends at the event that was newest then, so events appended
 * meanwhile are left out, and none is skipped.
 */
export async function* eventPagesOldestFirst(store: Store, q: EventQuestion = {}, pageSize = 1000): AsyncGenerator<KeywardEvent[]> {
  const last = (await store.findEvents({ ...q, limit: 1 })).data[0];
  if (last === undefined) return;
  for (let page = await store.findEvents({ ...q, limit: pageSize, oldestFirst: true }); page.data.length > 0; ) {
    const rows = page.data.reverse();
    const end = rows.findIndex((e) => e.id === last.id);
    if (end >= 0) {
      yield rows.slice(0, end + 1);
      return;
    }
    const newest = rows[rows.length - 1].id;
    yield rows;
    if (!page.hasPrev) return;
    page = await store.findEvents({ ...q, limit: pageSize, endingBefore: newest });
  }
}

/** Every event matching `q`, oldest first, in one array (a test's or a check's whole history). */
export async function allEvents(store: Store, q: EventQuestion = {}): Promise<KeywardEvent[]> {
  const out: KeywardEvent[] = [];
  for await (const page of eventPagesOldestFirst(store, q)) out.push(...page);
  return out;
}
