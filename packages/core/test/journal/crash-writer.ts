// A writer for the crash tests, killed with SIGKILL at moments the parent
// picks: it puts keys as fast as it can, printing "ack <id>" once each is
// durable; with "compact" it also rewrites the snapshot over and over, so a
// kill lands in a compaction as often as in an append.
import { createJsonFileStore, type JsonFileStore } from '../../src/store/json/store.js';
import { key } from '../conformance/records.js';

const [path, prefix, mode] = process.argv.slice(2);
const store = createJsonFileStore(path!, { onProblem: () => {} }) as JsonFileStore;
if (mode === 'compact') {
  void (async () => {
    for (;;) await store.compact().catch(() => undefined);
  })();
}
for (let i = 0; ; i++) {
  const k = key(0, { id: `${prefix}${i.toString(16)}`.padStart(24, '0'), owner: 'bob', description: `${prefix} ${i}` });
  await store.transact((tx) => tx.putKey(k));
  process.stdout.write(`ack ${k.id}\n`);
}
