// Noticing other processes' writes within 100 ms without blocking anything:
// fs.watch on the store's directory wakes the follower at once where the
// platform delivers events, and a short timer polls anyway (watch events can
// be dropped, coalesced, or absent on network filesystems). Each wake costs
// one fstat of the journal; only a grown or replaced journal is read.

import { type FSWatcher, watch } from 'node:fs';
import { basename, dirname } from 'node:path';

export function follow(files: readonly string[], pollMs: number, wake: () => void): () => void {
  const names = new Set(files.map((f) => basename(f)));
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dirname(files[0]!), { persistent: false }, (_event, name) => {
      if (!name || names.has(String(name))) wake();
    });
    watcher.on('error', () => watcher?.close());
  } catch {
    // no watch on this filesystem: the timer alone keeps the promise
  }
  const timer = setInterval(wake, pollMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    watcher?.close();
  };
}
