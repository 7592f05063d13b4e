// One keypress layer owns stdin. Every part of the screen that wants keys
// registers here with a layer; each key goes to the topmost part first
// (dialogs before panels before lists before global keys) and stops at the
// first that takes it, or at a modal part. That is how `esc` closes a dialog
// in one place and clears a search in another, and how `q` types a "q" into
// a text field instead of quitting. The same registrations tell the footer
// and the help screen which keys work right now.

import { useInput } from 'ink';
import { type ReactNode, createContext, useContext, useLayoutEffect, useMemo, useRef, useSyncExternalStore } from 'react';
import { BINDINGS, type Command, commandFor } from './bindings.js';
import { type KeyPress, toKeyPress } from './keypress.js';

export const Layer = { global: 0, screen: 10, panel: 20, dialog: 100, system: 1000 } as const;

/** Returns true when it took the key. */
export type KeyHandler = (key: KeyPress, command: Command | undefined) => boolean | void;

interface Entry {
  seq: number;
  layer: number;
  commands: readonly Command[];
  modal: boolean;
  handler: { current: KeyHandler };
}

class Registry {
  private entries: Entry[] = [];
  private seq = 0;
  private listeners = new Set<() => void>();
  private shown: Command[] = [];

  add(e: Omit<Entry, 'seq'>): () => void {
    const entry = { ...e, seq: ++this.seq };
    this.entries.push(entry);
    // Topmost first; among equals, the one registered last.
    this.entries.sort((a, b) => b.layer - a.layer || b.seq - a.seq);
    this.changed();
    return () => {
      this.entries = this.entries.filter((x) => x !== entry);
      this.changed();
    };
  }

  dispatch(key: KeyPress): void {
    for (const e of [...this.entries]) {
      const taken = e.handler.current(key, commandFor(key, e.commands));
      if (taken === true || e.modal) return;
    }
  }

  /** The commands that work now, topmost first, each key claimed once. */
  commands = (): Command[] => this.shown;

  subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  private changed(): void {
    const claimed = new Set<string>();
    const shown: Command[] = [];
    for (const e of this.entries) {
      for (const c of e.commands) {
        if (c === 'interrupt') continue;
        const keys = BINDINGS[c].keys;
        if (keys.some((k) => claimed.has(k))) continue;
        keys.forEach((k) => claimed.add(k));
        shown.push(c);
      }
      if (e.modal) break;
    }
    if (shown.join() !== this.shown.join()) {
      this.shown = shown;
      for (const fn of this.listeners) fn();
    }
  }
}

const RegistryContext = createContext<Registry | null>(null);

function useRegistry(): Registry {
  const r = useContext(RegistryContext);
  if (!r) throw new Error('useKeypress needs a KeypressLayer above it');
  return r;
}

export function KeypressLayer({ children }: { children: ReactNode }) {
  const registry = useMemo(() => new Registry(), []);
  useInput((input, key) => registry.dispatch(toKeyPress(input, key)));
  return <RegistryContext.Provider value={registry}>{children}</RegistryContext.Provider>;
}

export interface KeypressOptions {
  layer: number;
  /** The commands this part answers to (for the footer, help and `command`). */
  commands: readonly Command[];
  /** Keys stop here even when not taken (dialogs, text fields). */
  modal?: boolean;
  active?: boolean;
}

export function useKeypress(opts: KeypressOptions, handler: KeyHandler): void {
  const registry = useRegistry();
  const ref = useRef(handler);
  ref.current = handler;
  const { layer, modal = false, active = true } = opts;
  const commandsKey = opts.commands.join(',');
  // A layout effect: registered in the same commit that draws the part, so
  // a key typed right after a dialog appears already goes to the dialog.
  useLayoutEffect(() => {
    if (!active) return;
    return registry.add({ layer, modal, commands: commandsKey ? (commandsKey.split(',') as Command[]) : [], handler: ref });
  }, [registry, layer, modal, active, commandsKey]);
}

/** The commands that work right now, for the footer and the help screen. */
export function useActiveCommands(): Command[] {
  const registry = useRegistry();
  return useSyncExternalStore(registry.subscribe, registry.commands);
}
