// Store selection by name, the one place that turns what a person typed
// (--store, KEYWARD_STORE, a setting) into a store: a postgres:// or
// postgresql:// URL is the PostgreSQL adapter, anything else a path to the
// JSON store. The PostgreSQL driver loads only when a URL names it, so a
// command on a JSON store does not pay for it.

import type { Store } from './boundary.js';
import { createJsonFileStore } from './json/store.js';
import { isPostgresUrl, redactUrl } from './postgres/url.js';
import { redactTokensIn } from '../token.js';

export interface StoreOptions {
  /** PostgreSQL only: the most connections the store's pool holds (`keyward serve --db-connections`); a JSON store has none. */
  connections?: number;
}

export async function openStore(target: string, opts: StoreOptions = {}): Promise<Store> {
  if (isPostgresUrl(target)) {
    const { createPostgresStore } = await import('./postgres/store.js');
    return createPostgresStore(target, { poolSize: opts.connections });
  }
  return createJsonFileStore(target);
}

/**
 * Where a store lives as messages, headers and logs may show it: a path, or the URL without its password; a
 * token pasted as --store (or a file named after one) is cut to its key id, as every echo of what was typed is.
 */
export function storeLocation(target: string): string {
  return redactTokensIn(isPostgresUrl(target) ? redactUrl(target) : target);
}
