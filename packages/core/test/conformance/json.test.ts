// The conformance suite on the JSON journal store: in one process (a second
// handle on the same files stands for another process), and across real
// child processes.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Store } from '../../src/store/boundary.js';
import { JsonFileStore } from '../../src/store/json/store.js';
import { describeStoreAcrossProcesses, describeStoreConformance } from './index.js';
import { openStore } from './open-json.js';

const location = () => join(mkdtempSync(join(tmpdir(), 'keyward-conformance-')), 'store.json');

describeStoreConformance('json', {
  create: async () => openStore(location()),
  another: async (s: Store) => openStore((s as JsonFileStore).location),
});

describeStoreAcrossProcesses('json', {
  childModule: fileURLToPath(new URL('./open-json.ts', import.meta.url)),
  create: async () => {
    const at = location();
    return { location: at, store: openStore(at) };
  },
  changeSeenWithinMs: 100,
});
