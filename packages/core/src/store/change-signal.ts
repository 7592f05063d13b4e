// The change signal every store gives its caches: a version that only grows,
// and listeners told of each change (own and, where the adapter watches for
// them, other processes').

import type { StoreChange } from './boundary.js';

export class ChangeSignal {
  private current = 0;
  private readonly listeners = new Set<(change: StoreChange) => void>();

  version(): number {
    return this.current;
  }

  get listening(): boolean {
    return this.listeners.size > 0;
  }

  onChange(listener: (change: StoreChange) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Bumps the version and tells every listener; a listener that throws does not undo the change or stop the others. */
  changed(what: Omit<StoreChange, 'version'>): void {
    const change: StoreChange = { ...what, version: ++this.current };
    for (const l of this.listeners) {
      try {
        l(change);
      } catch {
        // a cache's trouble is not the writer's
      }
    }
  }
}

/** A change naming the records a transaction touched. */
export function changeOf(touched: { tenant: boolean; userIds: string[]; keyIds: string[] }): Omit<StoreChange, 'version'> {
  const c: { keyIds?: string[]; userIds?: string[]; tenant?: boolean } = {};
  if (touched.keyIds.length) c.keyIds = touched.keyIds;
  if (touched.userIds.length) c.userIds = touched.userIds;
  if (touched.tenant) c.tenant = true;
  return c;
}
