// One of the mixed load's engine processes: a real Keyward engine on the
// shared JSON store, acting as its own developer (and as the tenant admin to
// revoke that developer's keys), doing random operations until told to stop.
// Every answer is checked against what this process knows for certain (its
// ledger); at the end the ledger — tokens included — goes to the parent over
// the IPC channel, never to a file or a log.
import { KeywardError, createEngine, createJsonFileStore } from '@keyward/core';
import { Ledger, Tally, seeded } from './ledger.js';

const [path, user, seedText, limitText] = process.argv.slice(2);
const limit = Number(limitText);
const rand = seeded(Number(seedText));
const engine = createEngine(createJsonFileStore(path), { usageFlushMs: 500 });
const me = engine.as(user);
const admin = engine.as('admin');
const ledger = new Ledger();
const tally = new Tally();
const ops: Record<string, number> = {};
let expectedRefusals = 0;
let stopping = false;
process.on('message', (m) => {
  if (m === 'stop') stopping = true;
});

async function refusalOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (e) {
    if (e instanceof KeywardError) return e.code;
    throw e;
  }
}

async function step(): Promise<void> {
  const r = rand();
  if (r < 0.25) {
    ops.create = (ops.create ?? 0) + 1;
    const before = ledger.of(user, 'active').length;
    try {
      const k = await me.generateKey({ description: `${user} key ${ops.create}`, expiry: 'PT12H' });
      // At the moment a key is generated its owner is within the limit.
      tally.check(before < limit, () => `${user}: generated a key while holding ${before} active keys (limit ${limit})`);
      tally.check(k.status === 'active' && k.sub === user, () => `${user}: new key ${k.id} is ${k.status}, owned by ${k.sub}`);
      ledger.add({ id: k.id, owner: user, token: k.token, description: k.description, state: 'active' });
    } catch (e) {
      const code = e instanceof KeywardError ? e.code : String(e);
      tally.check(code === 'KEY_LIMIT_REACHED' && before >= limit, () => `${user}: create refused with ${code} while holding ${before} active keys`);
      expectedRefusals++;
    }
  } else if (r < 0.4) {
    ops.list = (ops.list ?? 0) + 1;
    const page = await me.listKeys({ status: 'active', limit: 100 });
    const got = page.data.map((k) => k.id).sort();
    const want = ledger
      .of(user, 'active')
      .map((k) => k.id)
      .sort();
    tally.check(JSON.stringify(got) === JSON.stringify(want), () => `${user}: active list ${got.length} keys, ledger ${want.length}`);
  } else if (r < 0.5) {
    const k = ledger.pick(user, ['active', 'revoked'], rand);
    if (!k) return;
    ops.rename = (ops.rename ?? 0) + 1;
    const description = `${user} renamed ${ops.rename}`;
    const v = await me.renameKey(k.id, description);
    k.description = description;
    tally.check(v.description === description && v.status === k.state, () => `${user}: rename of ${k.id} answered ${v.description} / ${v.status}`);
  } else if (r < 0.6) {
    const k = ledger.pick(user, ['active'], rand);
    if (!k) return;
    ops.revoke = (ops.revoke ?? 0) + 1;
    const v = await admin.revokeKey(k.id);
    k.state = 'revoked';
    tally.check(v.status === 'revoked', () => `${user}: revoked ${k.id} is ${v.status}`);
    // Revoking is immediate: the very next verify refuses the token.
    const out = await engine.verify(k.token);
    tally.check(!out.valid && out.reason === 'revoked', () => `${user}: token of revoked ${k.id} verified as ${JSON.stringify(out.valid)}`);
    tally.check((await refusalOf(admin.revokeKey(k.id))) === 'KEY_NOT_ACTIVE', () => `${user}: revoked ${k.id} could be revoked again`);
  } else if (r < 0.7) {
    const k = ledger.pick(user, ['active', 'revoked'], rand);
    if (!k) return;
    ops.delete = (ops.delete ?? 0) + 1;
    await me.deleteKey(k.id);
    k.state = 'deleted';
    const out = await engine.verify(k.token);
    tally.check(!out.valid && out.reason === 'unknown', () => `${user}: token of deleted ${k.id} verified`);
    tally.check((await refusalOf(me.getKey(k.id))) === 'KEY_NOT_FOUND', () => `${user}: deleted ${k.id} can still be read`);
  } else {
    const k = ledger.pick(user, ['active', 'revoked', 'deleted'], rand);
    if (!k) return;
    ops.verify = (ops.verify ?? 0) + 1;
    const out = await engine.verify(k.token);
    tally.check(out.valid === (k.state === 'active'), () => `${user}: ${k.state} key ${k.id} verified as ${out.valid}`);
  }
}

process.send!({ t: 'ready' });
while (!stopping) {
  try {
    await step();
  } catch (e) {
    tally.fail(`${user}: ${e instanceof KeywardError ? e.code : ''} ${(e as Error).message}`);
  }
  // A moment between operations, as a real process has: it lets the stop
  // message in, and leaves the store's lock to the server now and then (the
  // lock is not a queue; four tight loops would starve it).
  await new Promise((r) => setTimeout(r, Math.floor(rand() * 4)));
}
await engine.close();
process.send!({ t: 'done', keys: [...ledger.keys.values()], ops, expectedRefusals, tally: { checked: tally.checked, failures: tally.failures, samples: tally.samples } }, () => process.exit(0));
