// A writer for the event-copy crash tests: it creates keys, each with its
// `api-key.generated` event, printing "ack <id>" once each is committed, and
// kills itself with SIGKILL at the `crashAt` point of its `crashAfter`-th
// create: its journal record durable but no event copied to the day segment
// yet ("record"), or its events copied but the copy not yet marked ("copies").
import { createJsonFileStore } from '../../src/store/json/store.js';
import { event, key } from '../conformance/records.js';

const [path, prefix, crashAt, crashAfter] = process.argv.slice(2);
let commits = 0;
const die = (point: string) => () => {
  if (point === crashAt && commits === Number(crashAfter)) process.kill(process.pid, 'SIGKILL');
};
const store = createJsonFileStore(path!, { onProblem: () => {}, crashPoints: { afterRecordDurable: die('record'), afterCopiesWritten: die('copies') } });
for (let i = 0; ; i++) {
  const k = key(0, { id: `${prefix}${i.toString(16)}`.padStart(24, '0'), owner: 'bob', description: `${prefix} ${i}` });
  commits++;
  await store.transact((tx) => {
    tx.putKey(k);
    tx.emit(event('api-key.generated', Date.now(), 'bob', k.id));
  });
  process.stdout.write(`ack ${k.id}\n`);
}
