// What a windowed list hands its screen, for keys and events alike: the rows
// in view out of those fetched so far, the one under the cursor, and how many
// match. Only the fetching differs (keys by offset, a window at a time;
// events newest first, by cursor); the window, and how a late answer is
// dropped, are the same.

import { useCallback, useRef } from 'react';
import type { ListState } from '../state/list.js';

export interface ListWindow<T> {
  /** The visible rows; undefined where a row is still being fetched. */
  rows: (T | undefined)[];
  current?: T;
  total: number;
  loaded: boolean;
}

/** Rows fetched so far: `rows` are the list's rows from `offset` on, of `total` in all. */
export interface Fetched<T> {
  offset: number;
  rows: readonly T[];
  total: number;
}

/** The window `list` shows of what was fetched (null before the first answer). */
export function windowOf<T>(list: ListState, fetched: Fetched<T> | null): ListWindow<T> {
  const rows: (T | undefined)[] = [];
  const to = Math.min(fetched?.total ?? list.total, list.top + list.height);
  for (let i = list.top; i < to; i++) rows.push(fetched?.rows[i - fetched.offset]);
  return { rows, current: rows[list.cursor - list.top], total: fetched?.total ?? 0, loaded: !!fetched };
}

/**
 * Answers may arrive out of order: each fetch calls `begin()` and keeps its
 * answer only while the function it got back says no later fetch began.
 */
export function useLatestRequest(): () => () => boolean {
  const latest = useRef(0);
  return useCallback(() => {
    const mine = ++latest.current;
    return () => mine === latest.current;
  }, []);
}
