// A real process on a shared store, for the conformance suite's
// multi-process tests. It opens the store through the adapter's module
// (argv: module, location, command, ...args) and prints what it did, line by
// line, the moment it is durable or seen:
//   write <prefix> <count>   puts keys one transaction each: "ack <id>"
//   users <prefix> <count>   puts users one transaction each: "ack <id>"
//   watch                    "ready", then "seen <id> <epoch ms>" when a key turns revoked
import type { Store, StoreChange } from '../../src/store/boundary.js';
import { T0, event, key, user } from './records.js';

const [modulePath, location, command, ...args] = process.argv.slice(2);
const { openStore } = (await import(modulePath!)) as { openStore: (location: string) => Store };
const store = openStore(location!);
const out = (line: string) => process.stdout.write(line + '\n');

if (command === 'write') {
  const [prefix, count] = [args[0]!, Number(args[1])];
  for (let i = 0; i < count; i++) {
    const k = key(0, { id: `${prefix}${i.toString(16)}`.padStart(24, '0'), owner: 'bob', description: `${prefix} ${i}` });
    await store.transact((tx) => {
      tx.putKey(k);
      tx.emit(event('api-key.generated', T0 + i, 'bob', k.id));
    });
    out(`ack ${k.id}`);
  }
  await store.close();
} else if (command === 'users') {
  const [prefix, count] = [args[0]!, Number(args[1])];
  for (let i = 0; i < count; i++) {
    const u = user(`${prefix}${i}`);
    await store.transact((tx) => tx.putUser(u));
    out(`ack ${u.id}`);
  }
  await store.close();
} else if (command === 'watch') {
  const revoked = new Set<string>();
  await store.tenant(); // loaded: what exists now is known
  // Changes are looked at one after another, each timed when it was heard:
  // two looks at once (an `all` beside a change naming keys) would both find
  // a key revoked and report it twice.
  let looking = Promise.resolve();
  const look = async (c: StoreChange, at: number) => {
    // `all`: the store cannot name what changed (PostgreSQL, after (re)connecting
    // its listener), so a cache looks again at everything it cares about.
    const ids = c.all ? (await store.findKeys({ status: 'revoked', limit: 10_000, now: Date.now() })).data.map((k) => k.id) : (c.keyIds ?? []);
    for (const id of ids) {
      if (revoked.has(id)) continue;
      const k = await store.getKey(id);
      if (k?.revokedAt) {
        revoked.add(id);
        out(`seen ${id} ${at}`);
      }
    }
  };
  store.onChange((c) => {
    const at = Date.now();
    looking = looking.then(() => look(c, at));
  });
  out('ready');
  process.stdin.resume();
  process.stdin.on('end', () => void store.close().then(() => process.exit(0)));
}
