// A writing process for the crash loop: a real engine on the store, changing
// its own user's keys as fast as it can — create, rename, revoke (as the
// admin), delete — until it is killed. Before each change it prints
// `try <op> <id> <description>`, and `ack …` the moment the change is
// acknowledged (stdout to a pipe is synchronous on Linux, so an ack printed
// is an ack the parent sees). No token is printed. Every other writer (by seed) also
// compacts the store over and over, so kills land in compactions as well.
import { type JsonFileStore, createEngine, createJsonFileStore } from '@keyward/core';
import { seeded } from './ledger.js';

const [path, user, seedText] = process.argv.slice(2);
const rand = seeded(Number(seedText));
const store = createJsonFileStore(path) as JsonFileStore;
const engine = createEngine(store, { usageFlushMs: 0 });
if (Number(seedText) % 4 < 2) {
  void (async () => {
    for (;;) await store.compact().catch(() => undefined);
  })();
}
const me = engine.as(user);
const admin = engine.as('admin');
const active: string[] = [];
const revoked: string[] = [];
const say = (line: string) => process.stdout.write(line + '\n');

await me.whoami();
say('ready');
for (let n = 0; ; n++) {
  const r = rand();
  const description = `${user}-${n}`;
  if (active.length < 15 && (r < 0.5 || active.length === 0)) {
    say(`try create - ${description}`);
    const k = await me.generateKey({ description, expiry: 'P1D' });
    active.push(k.id);
    say(`ack create ${k.id} ${description}`);
  } else if (r < 0.7) {
    const id = active[Math.floor(rand() * active.length)];
    say(`try rename ${id} ${description}`);
    await me.renameKey(id, description);
    say(`ack rename ${id} ${description}`);
  } else if (r < 0.85) {
    const id = active.splice(Math.floor(rand() * active.length), 1)[0];
    say(`try revoke ${id} -`);
    await admin.revokeKey(id);
    revoked.push(id);
    say(`ack revoke ${id} -`);
  } else {
    const pool = revoked.length && rand() < 0.5 ? revoked : active;
    const id = pool.splice(Math.floor(rand() * pool.length), 1)[0];
    say(`try delete ${id} -`);
    await me.deleteKey(id);
    say(`ack delete ${id} -`);
  }
}
