// The order a transaction reads the keys it may change in. A PostgreSQL
// store locks what a transaction reads (FOR UPDATE): two transactions that
// read the same keys in opposite orders (two admins' bulk revokes, two leak
// reports) each hold what the other waits for, and PostgreSQL aborts one
// after its deadlock_timeout. Read in id order, they wait for one another.

import type { ApiKey } from '../domain.js';
import type { StoreReads } from './boundary.js';

/** The keys with these ids (each once), read in id order whatever the order given; undefined where none is. */
export async function keysInIdOrder(tx: Pick<StoreReads, 'getKey'>, ids: Iterable<string>): Promise<Map<string, ApiKey | undefined>> {
  const keys = new Map<string, ApiKey | undefined>();
  for (const id of [...new Set(ids)].sort()) keys.set(id, await tx.getKey(id));
  return keys;
}
