// A list's cursor and its visible window, as a pure reducer. Only the rows
// from `top` to `top + height` are ever fetched or rendered, so a list of
// 100 000 keys costs what a list of 20 does.

import type { Command } from '../keys/bindings.js';

export interface ListState {
  cursor: number;
  /** Index of the first visible row. */
  top: number;
  total: number;
  /** Rows that fit on screen. */
  height: number;
}

export type ListAction =
  | { type: 'move'; by: number }
  | { type: 'page'; by: 1 | -1 }
  | { type: 'first' }
  | { type: 'last' }
  | { type: 'goto'; index: number }
  | { type: 'total'; total: number }
  | { type: 'height'; height: number }
  | { type: 'reset' };

/** The list movement a key command asks for, if it is one (j/k, g/G, PgUp/PgDn). */
export function listActionFor(command: Command | undefined): ListAction | undefined {
  switch (command) {
    case 'down':
      return { type: 'move', by: 1 };
    case 'up':
      return { type: 'move', by: -1 };
    case 'first':
      return { type: 'first' };
    case 'last':
      return { type: 'last' };
    case 'pageDown':
      return { type: 'page', by: 1 };
    case 'pageUp':
      return { type: 'page', by: -1 };
    default:
      return undefined;
  }
}

export const initialList = (height = 10): ListState => ({ cursor: 0, top: 0, total: 0, height: Math.max(1, height) });

/** Keeps the cursor on a row and inside the window, and the window inside the list. */
function settle(s: ListState): ListState {
  const height = Math.max(1, s.height);
  const total = Math.max(0, s.total);
  const cursor = total === 0 ? 0 : Math.min(Math.max(0, s.cursor), total - 1);
  let top = Math.min(Math.max(0, s.top), Math.max(0, total - height));
  if (cursor < top) top = cursor;
  if (cursor >= top + height) top = cursor - height + 1;
  if (cursor === s.cursor && top === s.top && total === s.total && height === s.height) return s;
  return { cursor, top, total, height };
}

export function listReducer(s: ListState, a: ListAction): ListState {
  switch (a.type) {
    case 'move':
      return settle({ ...s, cursor: s.cursor + a.by });
    case 'page':
      return settle({ ...s, cursor: s.cursor + a.by * s.height, top: s.top + a.by * s.height });
    case 'first':
      return settle({ ...s, cursor: 0, top: 0 });
    case 'last':
      return settle({ ...s, cursor: s.total - 1, top: s.total });
    case 'goto':
      return settle({ ...s, cursor: a.index });
    case 'total':
      return settle({ ...s, total: a.total });
    case 'height':
      return settle({ ...s, height: a.height });
    case 'reset':
      return settle({ ...s, cursor: 0, top: 0 });
  }
}

/** The window's bounds, [from, to). */
export function visibleRange(s: ListState): { from: number; to: number } {
  return { from: s.top, to: Math.min(s.total, s.top + s.height) };
}
