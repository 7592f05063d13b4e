// Verify, in-process, against the physical limit measured in the same run:
// one SHA-256 of the token plus one Map lookup (with Node's fastest one-shot
// hash, and with the usual Hash object). Keyward also parses the token,
// checks its checksum, compares in constant time, derives the status and
// counts the use — and must stay within 0.7× of that limit, at 1k and 100k keys.
// Verify given the client's address (a server always gives it: the key's last
// used from, issue 11) against verify given none, in the same run: recording
// the address must keep it within 0.9×.
import { createHash, hash } from 'node:crypto';
import { type VerifyOutcome, createEngine, createJsonFileStore } from '@keyward/core';
import { buildStore } from './fixtures.js';
import { interleaved, quick, report } from './lib.js';

const OPS = quick ? 50_000 : 200_000;
const ROUNDS = quick ? 5 : 9;
const results: Record<number, number> = {};
const limits: Record<number, number> = {};
const withAddress: Record<number, number> = {};
// What a server sees: a handful of clients, IPv4 and IPv6, each key used from several of them.
const ADDRESSES = Array.from({ length: 16 }, (_, i) => (i % 2 ? `2001:db8::${i.toString(16)}` : `203.0.113.${i + 1}`));

for (const size of [1000, 100_000]) {
  const built = buildStore(size);
  const engine = createEngine(createJsonFileStore(built.path), { usageFlushMs: 0 });
  const tokens = built.tokens;
  // Every sampled key's facts in the verifier's cache, as in a running server: the timed loops are all hits (a miss would not count).
  await Promise.all(tokens.map((t) => engine.verify(t)));
  if (tokens.some((t) => engine.verify(t) instanceof Promise)) throw new Error('a sampled key is not in the verifier\'s cache: the timed loops would measure misses');
  // The limit: the same tokens, hashed, looked up in a Map of hex digests.
  const limit = new Map<string, string>();
  for (const k of Object.values(built.doc.keys)) limit.set(k.hash, k.id);
  let sink = 0;
  const verifyOnce = () => {
    for (let i = 0; i < OPS; i++) if ((engine.verify(tokens[i % tokens.length]) as VerifyOutcome).valid) sink++;
  };
  const verifyFromOnce = () => {
    for (let i = 0; i < OPS; i++) if ((engine.verify(tokens[i % tokens.length], ADDRESSES[i % ADDRESSES.length]) as VerifyOutcome).valid) sink++;
  };
  // The fastest SHA-256 Node has (one-shot), as Keyward uses: the true limit.
  const limitOnce = () => {
    for (let i = 0; i < OPS; i++) if (limit.get(hash('sha256', tokens[i % tokens.length]))) sink++;
  };
  // The same with a Hash object per call, as most code (and the estimate) hashes.
  const hashObjectOnce = () => {
    for (let i = 0; i < OPS; i++) if (limit.get(createHash('sha256').update(tokens[i % tokens.length]).digest('hex'))) sink++;
  };
  const time = (fn: () => void) => () => {
    const t = process.hrtime.bigint();
    fn();
    return OPS / (Number(process.hrtime.bigint() - t) / 1e9);
  };
  time(verifyOnce)();
  time(verifyFromOnce)();
  time(limitOnce)(); // warm them up
  time(hashObjectOnce)();
  const r = interleaved(ROUNDS, { keyward: time(verifyOnce), withAddress: time(verifyFromOnce), limit: time(limitOnce), hashObject: time(hashObjectOnce) });
  if (sink === 0) throw new Error('nothing verified');
  results[size] = r.keyward;
  limits[size] = r.limit;
  withAddress[size] = r.withAddress;
  report({
    measure: `verify in-process, ${size / 1000}k keys (verifies/s)`,
    value: Math.round(r.keyward),
    baseline: Math.round(r.limit),
    unit: 'ops/s',
    ratio: r.keyward / r.limit,
    goal: '>= 0.7',
    against: 'one-shot SHA-256 of the token + Map lookup',
  });
  report({
    measure: `verify in-process, ${size / 1000}k keys, vs Hash-object limit`,
    value: Math.round(r.keyward),
    baseline: Math.round(r.hashObject),
    unit: 'ops/s',
    ratio: r.keyward / r.hashObject,
    goal: '>= 0.7',
    against: 'createHash(sha256) of the token + Map lookup',
  });
  await engine.close();
}

/** The store size (1k or 100k keys) at which `value` does worse against `base`: a measure reports its worse case. */
const worseSize = (value: Record<number, number>, base: Record<number, number>) => (value[1000] / base[1000] <= value[100_000] / base[100_000] ? 1000 : 100_000);

// Issue 9's measure: the worse of the two store sizes.
const worst = worseSize(results, limits);
report({
  measure: 'verify in-process vs one-shot SHA-256 + Map',
  value: Math.round(results[worst]),
  baseline: Math.round(limits[worst]),
  unit: 'ops/s',
  ratio: results[worst] / limits[worst],
  goal: '>= 0.7',
  against: `one-shot SHA-256 of the token + Map lookup, at ${worst / 1000}k keys (the worse of 1k and 100k)`,
});

report({
  measure: 'verify slowdown from 1k to 100k keys',
  value: Math.round(results[100_000]),
  baseline: Math.round(results[1000]),
  unit: 'ops/s',
  ratio: results[1000] / results[100_000],
  goal: '<= 1.2',
  against: 'verify at 1k keys (ratio = 1k speed / 100k speed)',
});

// Issue 11's measure: the worse of the two store sizes.
const addressWorst = worseSize(withAddress, results);
report({
  measure: 'verify with address recording vs without',
  value: Math.round(withAddress[addressWorst]),
  baseline: Math.round(results[addressWorst]),
  unit: 'ops/s',
  ratio: withAddress[addressWorst] / results[addressWorst],
  goal: '>= 0.9',
  against: `verify given no address, same engine and tokens, at ${addressWorst / 1000}k keys (the worse of 1k and 100k; 16 client addresses, IPv4 and IPv6)`,
});
