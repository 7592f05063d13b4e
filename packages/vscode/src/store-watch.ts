// Live refresh. A local store is watched: its journal grows on every change
// and is replaced (like its snapshot) by a rename when compacted, so the
// directory is watched (a watch on the file itself would stop at the first
// rename). A database tells its changes through the service (core's
// followStoreChanges). A server cannot be watched, so it is polled, and so
// is every store, because keys expire without anything being written.

import { type FSWatcher, watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import { changedFilesOf } from '@keyward/core';

/** Calls `onChange` (debounced) when the store's snapshot or journal changes. */
export function watchStore(storePath: string, onChange: () => void, debounceMs = 150): { dispose(): void } {
  const names = new Set(changedFilesOf(storePath).map((f) => basename(f)));
  let timer: NodeJS.Timeout | undefined;
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dirname(storePath), { persistent: false }, (_event, name) => {
      if (name !== null && !names.has(name.toString())) return;
      clearTimeout(timer);
      timer = setTimeout(onChange, debounceMs);
    });
    // A deleted directory or an exhausted inotify budget ends the watch; polling still runs.
    watcher.on('error', () => watcher?.close());
  } catch {
    watcher = undefined;
  }
  return {
    dispose() {
      clearTimeout(timer);
      watcher?.close();
    },
  };
}

/** Runs `tick` every `everyMs()` (read before each wait, so a changed setting applies), one at a time, until disposed. */
export function poll(everyMs: () => number, tick: () => Promise<void>): { dispose(): void } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(async () => {
      try {
        await tick();
      } catch {
        // The next tick tries again; the session shows what went wrong.
      }
      schedule();
    }, everyMs());
  };
  schedule();
  return {
    dispose() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
