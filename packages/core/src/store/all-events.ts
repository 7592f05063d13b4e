// Every event a store holds matching a question, oldest first, paged through
// the boundary — for tests, tools and checks that must see the whole history
// (the use cases never need it: they ask for one page).
import type { KeywardEvent } from '../domain.js';
import type { EventFind, Store } from './boundary.js';

export async function allEvents(store: Store, q: Omit<EventFind, 'limit' | 'startingAfter' | 'endingBefore'> = {}): Promise<KeywardEvent[]> {
  const out: KeywardEvent[] = [];
  let page = await store.findEvents({ ...q, limit: 1000 });
  for (;;) {
    out.push(...page.data);
    if (!page.hasNext || page.data.length === 0) break;
    page = await store.findEvents({ ...q, limit: 1000, startingAfter: page.data[page.data.length - 1].id });
  }
  return out.reverse();
}
