// Keyward beside its peer, better-auth's API-key plugin (bench/peer/), in one
// run with the rounds interleaved: verify throughput at 1k and 100k keys
// (goal: Keyward's in-process verify ≥ 200× the peer's), and key creation
// throughput at the same sizes. Both sides are called in-process, one call
// after another, with tokens spread over the whole store.
//
// What each side does per call — verify: Keyward parses the token, checks its
// checksum, looks the key up by id, hashes once, compares and counts the use
// in memory; the peer hashes, selects the row by its indexed hash, and updates
// the row (last request). Create: Keyward takes the cross-process lock (or
// keeps it from the create just before, for at most 50 ms), re-checks the
// policy and appends one journal record (the key and its event, fsynced),
// then copies its event to the day segment (no fsync of its own: the journal
// record is the durable point); the peer inserts one row.
import { type VerifyOutcome, createEngine, createJsonFileStore } from '@keyward/core';
import { buildStore } from './fixtures.js';
import { interleavedAsync, quick, report } from './lib.js';
import { BetterAuthPeer } from './peer/better-auth.js';

const ROUNDS = quick ? 3 : 7;
const KEYWARD_VERIFIES = quick ? 30_000 : 200_000;
const PEER_VERIFIES = quick ? 100 : 400;
const SIZES = [1000, 100_000];
// A create costs the same at any size (one journal record), so both sizes are measured, --quick too.
const CREATE_SIZES = SIZES;

const perSecond = (ops: number, t: bigint) => ops / (Number(process.hrtime.bigint() - t) / 1e9);

for (const size of SIZES) {
  const built = buildStore(size);
  const engine = createEngine(createJsonFileStore(built.path), { usageFlushMs: 0 });
  const admin = engine.as('admin');
  await admin.listKeys({ limit: 1 }); // load the document once, as a running process has it

  const peer = await BetterAuthPeer.open();
  const seeded = performance.now();
  const peerKeys = await peer.seed(size);
  const seedSeconds = (performance.now() - seeded) / 1000;
  if (peer.keyCount() !== size) throw new Error(`peer holds ${peer.keyCount()} keys, not ${size}`);
  // The seeded keys are real keys to the peer: every sampled one verifies, a wrong one does not.
  for (const k of peerKeys.slice(0, 20)) if (!(await peer.verify(k))) throw new Error('a seeded peer key does not verify');
  if (await peer.verify(peerKeys[0].slice(0, -1) + (peerKeys[0].endsWith('a') ? 'b' : 'a'))) throw new Error('the peer accepted a wrong key');
  for (const t of built.tokens.slice(0, 20)) if (!(await engine.verify(t)).valid) throw new Error('a Keyward fixture token does not verify');
  // Every sampled key's facts in the verifier's cache, as in a running server: the timed loop is all hits.
  await Promise.all(built.tokens.map((t) => engine.verify(t)));

  let sink = 0;
  let k = 0;
  let p = 0;
  const verify = await interleavedAsync(ROUNDS, {
    keyward: async () => {
      const t = process.hrtime.bigint();
      for (let i = 0; i < KEYWARD_VERIFIES; i++) if ((engine.verify(built.tokens[k++ % built.tokens.length]) as VerifyOutcome).valid) sink++;
      return perSecond(KEYWARD_VERIFIES, t);
    },
    peer: async () => {
      const t = process.hrtime.bigint();
      for (let i = 0; i < PEER_VERIFIES; i++) if (await peer.verify(peerKeys[p++ % peerKeys.length])) sink++;
      return perSecond(PEER_VERIFIES, t);
    },
  });
  if (sink !== ROUNDS * (KEYWARD_VERIFIES + PEER_VERIFIES)) throw new Error(`only ${sink} verifies succeeded`);
  report({
    measure: `verify vs better-auth, ${size / 1000}k keys (verifies/s)`,
    value: Math.round(verify.keyward),
    baseline: Math.round(verify.peer),
    unit: 'ops/s',
    ratio: verify.keyward / verify.peer,
    goal: '>= 200',
    against: `better-auth 1.7.5 API-key plugin, auth.api.verifyApiKey, SQLite WAL (rate limit off; ${size / 1000}k keys seeded in ${seedSeconds.toFixed(1)} s)`,
  });

  if (!CREATE_SIZES.includes(size)) {
    peer.close();
    await engine.close();
    continue;
  }
  // Creation: Keyward fsyncs every write; the peer is measured as configured
  // (synchronous=NORMAL, no fsync per commit) and with synchronous=FULL.
  const creates = quick ? 15 : 30;
  const peerCreates = quick ? 50 : 150;
  let n = 0;
  const peerRound = async (mode: 'NORMAL' | 'FULL') => {
    peer.synchronous(mode);
    const t = process.hrtime.bigint();
    for (let i = 0; i < peerCreates; i++) await peer.create(peer.userIds[n++ % peer.userIds.length], `bench ${n}`);
    peer.synchronous('NORMAL');
    return perSecond(peerCreates, t);
  };
  const create = await interleavedAsync(ROUNDS, {
    keyward: async () => {
      const t = process.hrtime.bigint();
      for (let i = 0; i < creates; i++) await admin.generateKey({ description: `bench ${n++}` });
      return perSecond(creates, t);
    },
    peer: () => peerRound('NORMAL'),
    peerFull: () => peerRound('FULL'),
  });
  report({
    measure: `create vs better-auth, ${size / 1000}k keys (creates/s)`,
    value: round(create.keyward),
    baseline: round(create.peer),
    unit: 'ops/s',
    ratio: create.keyward / create.peer,
    goal: 'report',
    against: 'better-auth auth.api.createApiKey, SQLite WAL, synchronous=NORMAL (no fsync per commit)',
  });
  report({
    measure: `create vs better-auth (synchronous=FULL), ${size / 1000}k keys`,
    value: round(create.keyward),
    baseline: round(create.peerFull),
    unit: 'ops/s',
    ratio: create.keyward / create.peerFull,
    goal: '>= 1.0',
    against: 'better-auth auth.api.createApiKey, SQLite WAL, synchronous=FULL (fsync per commit, as Keyward)',
  });
  peer.close();
  await engine.close();
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}
