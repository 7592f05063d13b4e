// Noticing other processes' writes within 100 ms without blocking anything:
// fs.watch on the store's directory wakes the follower at once where the
// platform delivers events, and a short timer polls anyway (watch events can
// be dropped, coalesced, or absent on network filesystems). Each wake costs
// one fstat of the journal; only a grown or replaced journal is read.

import { type FSWatcher, watch } from 'node:fs';

export interface Following {
  stop(): void;
  /** A watch is set and has not failed: a change to a followed file wakes with `heard` at once. */
  readonly watching: boolean;
}

/**
 * Wakes on every change of a file in `dir` that `accept` names (any, by
 * default; a change the platform does not name wakes too), and every
 * `pollMs` anyway. Not `watching` where no watch could be set (a folder
 * not made yet, a filesystem without events) or once it failed: the timer
 * alone wakes then. `wake(heard, name)`: heard is true when the watch told
 * of a change (to `name`, where the platform names it), false for the poll.
 */
export function followFolder(dir: string, pollMs: number, wake: (heard: boolean, name?: string) => void, accept: (name: string) => boolean = () => true): Following {
  let watcher: FSWatcher | undefined;
  let watching = false;
  try {
    watcher = watch(dir, { persistent: false }, (_event, name) => {
      if (!name) wake(true);
      else if (accept(String(name))) wake(true, String(name));
    });
    watching = true;
    watcher.on('error', () => {
      watching = false;
      watcher?.close();
    });
  } catch {
    // no watch on this filesystem: the timer alone keeps the promise
  }
  const timer = setInterval(() => wake(false), pollMs);
  timer.unref();
  return {
    stop: () => {
      watching = false;
      clearInterval(timer);
      watcher?.close();
    },
    get watching() {
      return watching;
    },
  };
}
