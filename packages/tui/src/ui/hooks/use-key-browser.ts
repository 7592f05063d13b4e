// What Keys and My keys share: a windowed key list with a cursor, a search
// typed at `/`, a status filter cycled with `s`, and the keys that drive
// them. Each screen adds its own actions on top.

import type { KeyStatus } from '@keyward/core';
import { useCallback, useEffect } from 'react';
import { useAppActions } from '../app-context.js';
import { type Command, LIST_COMMANDS } from '../keys/bindings.js';
import { Layer, useKeypress } from '../keys/keypress-layer.js';
import { initialList, listActionFor, listReducer, type ListState } from '../state/list.js';
import { type TextField, editText, textField } from '../state/text-field.js';
import { useDebounced } from './use-debounced.js';
import { type KeyWindow, useKeyWindow } from './use-key-window.js';
import { useRetainedReducer, useRetainedState } from './use-retained.js';

const STATUSES: (KeyStatus | undefined)[] = [undefined, 'active', 'expired', 'revoked'];

export interface KeyBrowser extends KeyWindow {
  list: ListState;
  search: TextField;
  searching: boolean;
  status?: KeyStatus;
  /** Runs list movement, search and filter keys; true when it took the key. */
  handle(command: Command | undefined): boolean;
  setSearch(text: string): void;
  /** Shows exactly what matches `text`, whatever the status (a jump from Events). */
  showOnly(text: string): void;
}

export const BROWSE_COMMANDS: readonly Command[] = [...LIST_COMMANDS, 'search', 'cycleStatus'];

export function useKeyBrowser(name: string, opts: { sub?: string; height: number; active: boolean }): KeyBrowser {
  const { refresh } = useAppActions();
  const [list, dispatch] = useRetainedReducer(`${name}.list`, listReducer, initialList(opts.height));
  const [search, setSearchField] = useRetainedState<TextField>(`${name}.search`, textField());
  const [searching, setSearching] = useRetainedState(`${name}.searching`, false);
  const [status, setStatus] = useRetainedState<KeyStatus | undefined>(`${name}.status`, undefined);
  const query = useDebounced(search.value.trim(), 60);

  useEffect(() => dispatch({ type: 'height', height: opts.height }), [opts.height, dispatch]);
  const onTotal = useCallback((total: number) => dispatch({ type: 'total', total }), [dispatch]);
  const window = useKeyWindow({ sub: opts.sub, search: query, status }, list, onTotal);

  const setSearch = useCallback(
    (text: string) => {
      setSearchField(textField(text));
      setSearching(false);
      dispatch({ type: 'reset' });
    },
    [setSearchField, setSearching, dispatch],
  );

  const showOnly = useCallback(
    (text: string) => {
      setStatus(undefined);
      setSearch(text);
    },
    [setStatus, setSearch],
  );

  // While typing a search, every key edits it; enter keeps it, esc drops it.
  useKeypress({ layer: Layer.panel, modal: true, commands: ['submit', 'back'], active: opts.active && searching }, (k, command) => {
    if (command === 'submit') setSearching(false);
    else if (command === 'back') setSearch('');
    else {
      const next = editText(search, k, 200);
      if (next && next.value !== search.value) dispatch({ type: 'reset' });
      if (next) setSearchField(next);
    }
    return true;
  });

  const handle = (command: Command | undefined): boolean => {
    const move = listActionFor(command);
    if (move) {
      dispatch(move);
      return true;
    }
    switch (command) {
      case 'search':
        setSearching(true);
        return true;
      case 'cycleStatus':
        setStatus(STATUSES[(STATUSES.indexOf(status) + 1) % STATUSES.length]);
        dispatch({ type: 'reset' });
        refresh();
        return true;
      case 'back':
        if (search.value) {
          setSearch('');
          return true;
        }
        return false;
    }
    return false;
  };

  return { ...window, list, search, searching, status, handle, setSearch, showOnly };
}
