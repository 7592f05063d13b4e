// Noticing other processes' writes within 100 ms without blocking anything:
// fs.watch on the store's directory wakes the follower at once where the
// platform delivers events, and a short timer polls anyway (watch events can
// be dropped, coalesced, or absent on network filesystems). Each wake costs
// one fstat of the journal; only a grown or replaced journal is read.

import { type FSWatcher, watch } from 'node:fs';
import { basename, dirname } from 'node:path';

export function follow(files: readonly string[], pollMs: number, wake: () => void): () => void {
  const names = new Set(files.map((f) => basename(f)));
  return followFolder(dirname(files[0]!), pollMs, wake, (name) => names.has(name)).stop;
}

/**
 * Wakes on every change of a file in `dir` that `accept` names (any, by
 * default; a change the platform does not name wakes too), and every
 * `pollMs` anyway. `watching` is false where no watch could be set (a folder
 * not made yet, a filesystem without events): the timer alone wakes then.
 */
export function followFolder(dir: string, pollMs: number, wake: () => void, accept: (name: string) => boolean = () => true): { stop: () => void; watching: boolean } {
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dir, { persistent: false }, (_event, name) => {
      if (!name || accept(String(name))) wake();
    });
    watcher.on('error', () => watcher?.close());
  } catch {
    // no watch on this filesystem: the timer alone keeps the promise
  }
  const timer = setInterval(wake, pollMs);
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
      watcher?.close();
    },
    watching: watcher !== undefined,
  };
}
