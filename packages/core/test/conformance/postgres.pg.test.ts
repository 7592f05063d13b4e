// The conformance suite on the PostgreSQL store, on a real server: each
// store gets a database of its own; a second handle on the same database
// stands for another server, and real child processes for the rest.
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';
import type { Store } from '../../src/store/boundary.js';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/postgres.js';
import { describeStoreAcrossProcesses, describeStoreConformance } from './index.js';
import { openStore } from './open-postgres.js';

const databases: TestDatabase[] = [];
// The full URL of each store (its `location` leaves the password out).
const urls = new WeakMap<Store, string>();
afterAll(async () => {
  for (const d of databases) await d.drop();
});

async function fresh(): Promise<{ location: string; store: Store }> {
  const d = await createTestDatabase();
  databases.push(d);
  const store = openStore(d.url);
  urls.set(store, d.url);
  return { location: d.url, store };
}

describeStoreConformance('postgres', {
  create: async () => (await fresh()).store,
  signalsOnItsOwn: true,
  another: async (s: Store) => {
    const o = openStore(urls.get(s)!);
    urls.set(o, urls.get(s)!);
    return o;
  },
});

describeStoreAcrossProcesses('postgres', {
  childModule: fileURLToPath(new URL('./open-postgres.ts', import.meta.url)),
  create: fresh,
  changeSeenWithinMs: 1000,
});
