// Events, newest first, fetched a page at a time as the cursor goes down
// (cursor paging in core, never the whole log). Each poll fetches the head
// again; new events appear on top, and the cursor stays on the event it was
// on unless it was at the top, where the newest events are.

import type { EventQuery, EventView } from '@keyward/core';
import { useEffect, useRef, useState } from 'react';
import { useAppActions, useAppState } from '../app-context.js';
import type { ListAction, ListState } from '../state/list.js';
import { type ListWindow, useLatestRequest, windowOf } from './list-window.js';

const PAGE = 200;
const MAX_HEAD = 1000;

export interface EventFilter {
  type?: EventQuery['type'];
  /** Shows the usage batches too; hidden by default, so that rare events (excessive use) stand out. */
  showUsage?: boolean;
  keyId?: string;
  userId?: string;
}

interface Feed {
  query: string;
  events: EventView[];
  /** Whether older events match too (the page had a next one). */
  more: boolean;
  total: number;
}

/**
 * The count to show. A store that keeps events in day segments does not
 * count every match, and gives as total only what it knows exists: then
 * "more" alone says whether to load on, and the count is at least one past
 * what is loaded.
 */
function totalOf(counted: number, loaded: number, more: boolean): number {
  return more ? Math.max(counted, loaded + 1) : loaded;
}

export type EventFeed = ListWindow<EventView>;

export function useEventFeed(filter: EventFilter, list: ListState, dispatch: (a: ListAction) => void): EventFeed {
  const { service, fail } = useAppActions();
  const { tick } = useAppState();
  const [feed, setFeed] = useState<Feed | null>(null);
  const feedRef = useRef(feed);
  feedRef.current = feed;
  const listRef = useRef(list);
  listRef.current = list;
  const begin = useLatestRequest();
  const query = JSON.stringify([filter.type ?? '', filter.keyId ?? '', filter.userId ?? '', filter.showUsage === true]);
  const { showUsage, ...rest } = filter;
  const asked: EventQuery = { ...rest, hideUsage: !showUsage && !filter.type };

  // The head: on start, on a new filter, and on every poll.
  useEffect(() => {
    const latest = begin();
    const old = feedRef.current?.query === query ? feedRef.current : null;
    const limit = Math.min(MAX_HEAD, Math.max(PAGE, old?.events.length ?? 0));
    service.listEvents({ ...asked, limit }).then(
      (page) => {
        if (!latest()) return;
        let events = page.data;
        let more = !!page.next;
        if (old && old.events.length > limit) {
          // Keep the older pages already loaded below the new head.
          const at = old.events.length > 0 ? page.data.findIndex((e) => e.id === old.events[0].id) : -1;
          if (at >= 0) {
            events = page.data.slice(0, at).concat(old.events);
            more = old.more;
          }
        }
        setFeed({ query, events, more, total: totalOf(page.total, events.length, more) });
        dispatch({ type: 'total', total: Math.max(events.length, 0) });
        const l = listRef.current;
        const was = old?.events[l.cursor];
        if (old && was && l.cursor > 0) {
          const now = events.findIndex((e) => e.id === was.id);
          if (now >= 0 && now !== l.cursor) dispatch({ type: 'goto', index: now });
        } else if (!old) dispatch({ type: 'reset' });
      },
      (e: unknown) => latest() && fail(e),
    );
    // The filter is in `query`.
  }, [query, tick, service]);

  // Older pages, as the window nears the end of what is loaded.
  const needMore = !!feed && feed.query === query && feed.more && list.top + 2 * list.height >= feed.events.length;
  const loadingMore = useRef(false);
  useEffect(() => {
    const f = feedRef.current;
    if (!needMore || !f || f.events.length === 0 || loadingMore.current) return;
    loadingMore.current = true;
    const last = f.events[f.events.length - 1].id;
    service.listEvents({ ...asked, startingAfter: last, limit: PAGE }).then(
      (page) => {
        loadingMore.current = false;
        // A new head replaced the feed meanwhile; the next poll continues from it.
        if (feedRef.current !== f) return;
        const events = f.events.concat(page.data);
        setFeed({ query, events, more: !!page.next, total: totalOf(page.total, events.length, !!page.next) });
        dispatch({ type: 'total', total: events.length });
      },
      (e: unknown) => {
        loadingMore.current = false;
        fail(e);
      },
    );
  }, [needMore, feed]);

  if (!feed || feed.query !== query) return { rows: [], total: 0, loaded: false };
  // The window runs to the last event loaded; the total may count past it (totalOf).
  return { ...windowOf(list, { offset: 0, rows: feed.events, total: feed.events.length }), total: feed.total };
}
