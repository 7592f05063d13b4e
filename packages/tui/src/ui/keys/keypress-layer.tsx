// One keypress layer owns stdin. Every part of the screen that wants keys
// registers here with a layer; each key goes to the topmost part first
// (dialogs before panels before lists before global keys) and stops at the
// first that takes it, or at a modal part. That is how `esc` closes a dialog
// in one place and clears a search in another, and how `q` types a "q" into
// a text field instead of quitting. The same registrations tell the footer
// and the help screen which keys work right now.

import { useInput } from 'ink';
import { type ReactNode, createContext, useContext, useLayoutEffect, useMemo, useRef, useSyncExternalStore } from 'react';
import { unstable_IdlePriority as IdlePriority, unstable_scheduleCallback as scheduleCallback } from 'scheduler';
import { BINDINGS, type Command, commandFor } from './bindings.js';
import { type KeyPress, printableText, readInput } from './keypress.js';

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
  // A bracketed paste is gathered and handed over as one piece of text, never as keys.
  const paste = useRef<string | null>(null);
  // Keys are handed over one at a time, each only once React has no work
  // left, so that what a key did (opened a dialog, started a search) is
  // committed before the next key is routed: keys typed quickly, or arriving
  // in one read over SSH, go where a person would expect. React renders in
  // tasks of its scheduler, queued from a microtask after a state change; an
  // idle task of that scheduler, queued on the next turn of the event loop,
  // runs after them.
  const queue = useRef<KeyPress[]>([]);
  const later = () => setImmediate(() => scheduleCallback(IdlePriority, drain));
  const drain = () => {
    const next = queue.current.shift();
    if (next) registry.dispatch(next);
    if (queue.current.length > 0) later();
  };
  const enqueue = (keys: KeyPress[]) => {
    const idle = queue.current.length === 0;
    queue.current.push(...keys);
    if (idle) later();
  };
  useInput((input, key) => {
    const e = readInput(input, key);
    if (e.kind === 'pasteStart') paste.current = '';
    else if (e.kind === 'pasteEnd') {
      const text = printableText(paste.current ?? '');
      paste.current = null;
      if (text) enqueue([{ name: '', text }]);
    } else if (paste.current !== null) paste.current += key.return ? '\n' : input;
    else enqueue(e.keys);
  });
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
