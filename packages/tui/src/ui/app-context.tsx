// What every screen needs from the app, split as STYLE.md suggests: state
// that changes (who I am, the refresh tick) apart from actions that never do
// (refresh, notify, copy, navigate), so a screen that only acts does not
// re-render on every poll.

import type { KeyService, WhoAmI } from '@keyward/core';
import { createContext, useContext } from 'react';

export type ScreenId = 'keys' | 'events' | 'settings' | 'users' | 'mykeys';

export interface Notice {
  kind: 'info' | 'success' | 'error';
  text: string;
}

/** What another screen asked the one it opens to show (`o` on an event: that key). */
export interface Intent {
  search?: string;
}

export interface AppState {
  me: WhoAmI;
  /** Bumped on every poll and after every change, so screens fetch again. */
  tick: number;
  /** The time of the last tick, for "in 3d" and "2h ago". */
  now: number;
}

export interface AppActions {
  service: KeyService;
  refresh(): void;
  notify(notice: Notice | null): void;
  /** Shows a refusal or failure as its message and code (after `reloadIfUnknown`). */
  fail(error: unknown): void;
  /** After a change was refused: one whose answer was lost (OUTCOME_UNKNOWN) may have been made, so the screens read again. */
  reloadIfUnknown(error: unknown): void;
  /** Copies through OSC 52 and says so, with the fallback for terminals that ignore it. */
  copy(text: string, what: string, shownOnScreen?: boolean): void;
  navigate(screen: ScreenId, intent?: Intent): void;
}

const StateContext = createContext<AppState | null>(null);
const ActionsContext = createContext<AppActions | null>(null);
export const AppStateProvider = StateContext.Provider;
export const AppActionsProvider = ActionsContext.Provider;

export function useAppState(): AppState {
  const s = useContext(StateContext);
  if (!s) throw new Error('useAppState outside the app');
  return s;
}

export function useAppActions(): AppActions {
  const a = useContext(ActionsContext);
  if (!a) throw new Error('useAppActions outside the app');
  return a;
}

