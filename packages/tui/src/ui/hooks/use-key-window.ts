// Fetches the keys of a list's visible window from the service: a page above
// and a page below come along, so moving the cursor rarely waits for a fetch.
// Searching, filtering, sorting and paging all happen in core; the UI never
// holds more than three screens of keys.

import type { KeyStatus, KeyView } from '@keyward/core';
import { useEffect, useRef, useState } from 'react';
import { useAppActions, useAppState } from '../app-context.js';
import type { ListState } from '../state/list.js';
import { type ListWindow, useLatestRequest, windowOf } from './list-window.js';

export interface KeyFilter {
  /** Only this owner's keys (My keys). */
  sub?: string;
  search: string;
  status?: KeyStatus;
}

interface Buffer {
  query: string;
  tick: number;
  offset: number;
  rows: KeyView[];
  total: number;
}

export type KeyWindow = ListWindow<KeyView>;

export function useKeyWindow(filter: KeyFilter, list: ListState, onTotal: (total: number) => void): KeyWindow {
  const { service, fail } = useAppActions();
  const { tick } = useAppState();
  const [buffer, setBuffer] = useState<Buffer | null>(null);
  const begin = useLatestRequest();
  const bufferRef = useRef(buffer);
  bufferRef.current = buffer;
  const query = JSON.stringify([filter.sub ?? '', filter.search, filter.status ?? '']);

  useEffect(() => {
    const b = bufferRef.current;
    const to = Math.min(b?.total ?? Infinity, list.top + list.height);
    const covered = !!b && b.query === query && b.tick === tick && list.top >= b.offset && to <= b.offset + b.rows.length;
    if (covered) return;
    const latest = begin();
    const offset = Math.max(0, list.top - list.height);
    service
      .listKeys({ sub: filter.sub, search: filter.search || undefined, status: filter.status, offset, limit: list.height * 3 })
      .then((page) => {
        if (!latest()) return;
        setBuffer({ query, tick, offset, rows: page.data, total: page.total });
        onTotal(page.total);
      })
      .catch((e: unknown) => {
        if (latest()) fail(e);
      });
    // The filter is in `query`; onTotal is a dispatch.
  }, [query, tick, list.top, list.height, service]);

  return windowOf(list, buffer && buffer.query === query ? buffer : null);
}
