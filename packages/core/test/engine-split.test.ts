// The engine split by job: the verifier's cache answers synchronously on a
// hit and is invalidated only by the store's change signal — for changes made
// through another engine, another "process" (a store view that hears of a
// change only as `all`, like a file store, or by key ids, like PostgreSQL's
// NOTIFY), and a real second process on the JSON store. Then the usage
// pipeline's aggregates and the retention sweep.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type Clock, type Engine, MemoryStore, type Store, type StoreChange, type VerifyOutcome, createEngine, createJsonFileStore, hashToken, manualClock, newEvent, newToken, systemClock } from '../src/index.js';
import { seededStore, tempStorePath } from './helpers.js';
import { timedHere } from './child.js';

type Heard = 'all' | 'keys';

/**
 * The same records seen from another process: every change made through the
 * shared store reaches this view's listeners only as the other process would
 * hear of it — `all` (a file changed) or the key ids (a NOTIFY payload).
 */
function otherProcess(shared: MemoryStore, heard: Heard): Store {
  const listeners = new Set<(c: StoreChange) => void>();
  let version = 0;
  shared.onChange((c) => {
    const told: StoreChange = heard === 'all' ? { version: ++version, all: true } : { ...c, version: ++version };
    for (const l of listeners) l(told);
  });
  return new Proxy(shared, {
    get(target, p) {
      if (p === 'onChange')
        return (l: (c: StoreChange) => void) => {
          listeners.add(l);
          return () => listeners.delete(l);
        };
      if (p === 'version') return () => version;
      const v = Reflect.get(target, p, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

const isSync = (o: VerifyOutcome | Promise<VerifyOutcome>): o is VerifyOutcome => !(o instanceof Promise);

async function twoProcesses(heard: Heard) {
  const shared = new MemoryStore();
  const clock = manualClock();
  const writer = await seededStore({ store: shared, clock });
  const reader = createEngine(otherProcess(shared, heard), { clock, usageFlushMs: 0, retentionSweepMs: 0 });
  const mine = await writer.bob.generateKey({ description: 'mine' });
  const other = await writer.bob.generateKey({ description: 'other' });
  // A first verify asks the store (a miss); the next is answered from the cache, synchronously.
  const miss = reader.verify(mine.token);
  expect(isSync(miss)).toBe(false);
  expect(await miss).toMatchObject({ valid: true });
  const hit = reader.verify(mine.token);
  expect(isSync(hit) && hit.valid).toBe(true);
  return { ...writer, reader, mine, other };
}

describe('the verifier cache, invalidated through onChange', () => {
  const cases: { change: string; heard: Heard; act: (w: Awaited<ReturnType<typeof twoProcesses>>) => Promise<unknown>; expect: { valid: boolean; reason?: string }; cached: boolean }[] = [
    { change: 'its key revoked', heard: 'all', act: (w) => w.alice.revokeKey(w.mine.id), expect: { valid: false, reason: 'revoked' }, cached: false },
    { change: 'its key revoked', heard: 'keys', act: (w) => w.alice.revokeKey(w.mine.id), expect: { valid: false, reason: 'revoked' }, cached: false },
    { change: 'its key deleted', heard: 'all', act: (w) => w.bob.deleteKey(w.mine.id), expect: { valid: false, reason: 'unknown' }, cached: false },
    { change: 'its key deleted', heard: 'keys', act: (w) => w.bob.deleteKey(w.mine.id), expect: { valid: false, reason: 'unknown' }, cached: false },
    { change: 'its key renamed', heard: 'keys', act: (w) => w.bob.renameKey(w.mine.id, 'renamed'), expect: { valid: true }, cached: false },
    { change: 'another key revoked', heard: 'keys', act: (w) => w.alice.revokeKey(w.other.id), expect: { valid: true }, cached: true },
    { change: 'another key revoked', heard: 'all', act: (w) => w.alice.revokeKey(w.other.id), expect: { valid: true }, cached: false },
    { change: 'a setting changed', heard: 'keys', act: (w) => w.alice.updateSettings({ excessive_use_per_minute: 5 }), expect: { valid: true }, cached: true },
    { change: 'only events appended', heard: 'keys', act: (w) => w.store.append([newEvent('api-key.auth-failed', 0, 'anonymous', undefined, {})]), expect: { valid: true }, cached: true },
  ];
  for (const c of cases) {
    it(`${c.change}, heard as ${c.heard}: ${c.expect.valid ? 'still valid' : c.expect.reason}, ${c.cached ? 'from the cache' : 'asked again'}`, async () => {
      const w = await twoProcesses(c.heard);
      await c.act(w);
      const out = w.reader.verify(w.mine.token);
      expect(isSync(out)).toBe(c.cached);
      expect(await out).toMatchObject(c.expect);
      // Whatever it asked, the answer is cached again until the next change.
      expect(isSync(w.reader.verify(w.mine.token))).toBe(c.expect.valid === true || c.expect.reason !== 'unknown');
    });
  }

  /** A reader on another process's view whose getKey answers the key as it was, but only once released. */
  function lateReader(shared: MemoryStore, clock: Clock) {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const reads = { asked: 0, release: () => release() };
    const slow = new Proxy(otherProcess(shared, 'keys'), {
      get(target, p) {
        if (p === 'getKey')
          return async (id: string) => {
            reads.asked++;
            const key = await target.getKey(id);
            await gate;
            return key;
          };
        return Reflect.get(target, p, target);
      },
    });
    return { reader: createEngine(slow, { clock, usageFlushMs: 0, retentionSweepMs: 0 }), reads };
  }

  it('does not cache a miss that raced a change: the answer of the moment, then the new state', async () => {
    const shared = new MemoryStore();
    const { alice, bob, clock } = await seededStore({ store: shared });
    const k = await bob.generateKey({ description: 'raced' });
    const { reader, reads } = lateReader(shared, clock);
    const pending = reader.verify(k.token);
    await alice.revokeKey(k.id);
    reads.release();
    expect(await pending).toMatchObject({ valid: true });
    expect(await reader.verify(k.token)).toMatchObject({ valid: false, reason: 'revoked' });
  });

  it('caches a miss that raced changes to other keys only (a stream of creates must not keep every miss uncached)', async () => {
    const shared = new MemoryStore();
    const { bob, clock } = await seededStore({ store: shared });
    const k = await bob.generateKey({ description: 'asked while others are made' });
    const { reader, reads } = lateReader(shared, clock);
    const pending = reader.verify(k.token);
    await bob.generateKey({ description: 'another key, made meanwhile' });
    reads.release();
    expect(await pending).toMatchObject({ valid: true });
    // Cached: answered synchronously, the store not asked again.
    expect(reader.verify(k.token)).toMatchObject({ valid: true });
    expect(reads.asked).toBe(1);
  });
});

describe('the hot path on a cached key', () => {
  it('skips the checksum only for the token issued: a mistyped one is malformed, another secret for the id is unknown', async () => {
    const { alice, bob, engine } = await seededStore({ store: new MemoryStore() });
    const k = await bob.generateKey({ description: 'cached' });
    expect(await engine.verify(k.token)).toMatchObject({ valid: true });
    const typo = k.token.slice(0, -1) + (k.token.endsWith('0') ? '1' : '0');
    expect(engine.verify(typo)).toEqual({ valid: false, reason: 'malformed' });
    expect(engine.verify(newToken(k.id))).toEqual({ valid: false, reason: 'unknown', keyId: k.id });
    expect(engine.verify(k.token)).toMatchObject({ valid: true });
    await engine.flush();
    const failed = (await alice.listEvents({ type: 'api-key.auth-failed' })).data;
    expect(failed).toHaveLength(2);
    expect(failed.find((e) => e.keyId === k.id)?.data.reasons).toEqual({ unknown: 1 });
    expect(failed.find((e) => e.keyId === undefined)?.data.reasons).toEqual({ malformed: 1 });
  });

  it('keeps apart two keys whose ids share the cache\'s index (the first 12 hex digits): each gets its own answer, a revoke refuses only its key', async () => {
    const { alice, store, engine, clock } = await seededStore({ store: new MemoryStore() });
    const now = new Date(clock.now()).toISOString();
    const later = new Date(clock.now() + 86_400_000).toISOString();
    const ids = ['abcdef123456' + '0'.repeat(12), 'abcdef123456' + 'f'.repeat(12)];
    const tokens = ids.map((id) => newToken(id));
    await store.transact((tx) => {
      for (const [i, id] of ids.entries()) tx.putKey({ id, description: `twin ${i}`, owner: 'bob', createdBy: 'bob', created: now, lastUpdated: now, expiry: later, hash: hashToken(tokens[i]) });
    });
    for (let round = 0; round < 2; round++) {
      for (const [i, t] of tokens.entries()) expect(await engine.verify(t)).toMatchObject({ valid: true, key: { id: ids[i] } });
    }
    // One twin's secret under the other's id is still refused as that id's.
    expect(await engine.verify(newToken(ids[1]))).toEqual({ valid: false, reason: 'unknown', keyId: ids[1] });
    await alice.revokeKey(ids[0]);
    expect(await engine.verify(tokens[0])).toMatchObject({ valid: false, reason: 'revoked', keyId: ids[0] });
    expect(await engine.verify(tokens[1])).toMatchObject({ valid: true, key: { id: ids[1] } });
    expect(await engine.verify(tokens[0])).toMatchObject({ valid: false, reason: 'revoked', keyId: ids[0] });
  });
});

describe('misses', () => {
  it('ask the store once for a burst of verifies of one uncached key, and afresh after a change to it', async () => {
    const shared = new MemoryStore();
    const { alice, bob, clock } = await seededStore({ store: shared });
    const k = await bob.generateKey({ description: 'burst' });
    let asked = 0;
    let release!: () => void;
    let gate = new Promise<void>((r) => (release = r));
    const counting = new Proxy(otherProcess(shared, 'keys'), {
      get(target, p) {
        if (p === 'getKey')
          return async (id: string) => {
            asked++;
            const key = await target.getKey(id);
            await gate;
            return key;
          };
        return Reflect.get(target, p, target);
      },
    });
    const reader = createEngine(counting, { clock, usageFlushMs: 0, retentionSweepMs: 0 });
    const burst = Array.from({ length: 50 }, () => reader.verify(k.token));
    expect(asked).toBe(1);
    await alice.revokeKey(k.id);
    const after = reader.verify(k.token);
    expect(asked).toBe(2);
    release();
    expect((await Promise.all(burst)).every((o) => o.valid)).toBe(true); // the answer of the moment they asked
    expect(await after).toMatchObject({ valid: false, reason: 'revoked' });
    gate = Promise.resolve();
    expect(reader.verify(k.token)).toMatchObject({ valid: false, reason: 'revoked' }); // cached now
    expect(asked).toBe(2);
  });
});

describe('the first verifies of a server', () => {
  it('cache every key of a first burst on a JSON store, though the store\'s first load drops the whole cache meanwhile', async () => {
    const path = tempStorePath();
    const { bob, engine } = await seededStore({ store: createJsonFileStore(path), clock: systemClock });
    const tokens = [];
    for (let i = 0; i < 20; i++) tokens.push((await bob.generateKey({ description: `k${i}` })).token);
    await engine.close();
    const server = createEngine(createJsonFileStore(path), { usageFlushMs: 0, retentionSweepMs: 0 });
    const first = await Promise.all(tokens.map((t) => server.verify(t)));
    expect(first.every((o) => o.valid)).toBe(true);
    // Answered from the cache now: synchronously, without asking the store again.
    for (const t of tokens) expect(server.verify(t)).toMatchObject({ valid: true });
    await server.close();
  });
});

describe('two real processes on one JSON store', () => {
  it('a revoke by the other process is refused here within 100 ms, every time', async () => {
    const path = tempStorePath();
    // The other process reads the real time: so does everything here.
    const { bob, engine } = await seededStore({ store: createJsonFileStore(path), clock: systemClock });
    const keys: Awaited<ReturnType<typeof bob.generateKey>>[] = [];
    for (let i = 0; i < 10; i++) keys.push(await bob.generateKey({ description: `k${i}` }));
    const reader: Engine = createEngine(createJsonFileStore(path), { usageFlushMs: 0, retentionSweepMs: 0 });
    for (const k of keys) expect((await reader.verify(k.token)).valid).toBe(true);
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./fixtures/revoker.ts', import.meta.url)), path, 'alice'], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    expect((await lines.next()).value).toBe('ready');
    const delays: number[] = [];
    // This process is the one whose reaction is held to the bound: it runs as a timed child does.
    await timedHere(async () => {
      for (const k of keys) {
        // The file store hears of the previous revoke as `all`: the first verify asks again, the next is a hit.
        expect(await reader.verify(k.token)).toMatchObject({ valid: true });
        expect(reader.verify(k.token)).toMatchObject({ valid: true });
        child.stdin!.write(`${k.id}\n`);
        expect((await lines.next()).value).toBe(`ack ${k.id}`);
        const acked = performance.now();
        let out = await reader.verify(k.token);
        while (out.valid && performance.now() - acked < 2000) {
          await new Promise((r) => setTimeout(r, 2));
          out = await reader.verify(k.token);
        }
        delays.push(performance.now() - acked);
        expect(out).toMatchObject({ valid: false, reason: 'revoked' });
      }
    });
    child.stdin!.end();
    await new Promise((r) => child.on('close', r));
    await reader.close();
    await engine.close();
    expect(Math.max(...delays), `delays ${delays.map((d) => d.toFixed(0)).join(', ')} ms`).toBeLessThan(100);
  }, 60_000);
});

describe('the usage pipeline', () => {
  it('records uses per minute with their addresses, and last used as the aggregates say plus what is not flushed', async () => {
    const clock = manualClock(Date.parse('2026-03-01T10:00:50Z'));
    const { alice, bob, engine, store } = await seededStore({ clock, store: new MemoryStore() });
    const k = await bob.generateKey({ description: 'busy' });
    for (let i = 0; i < 4; i++) {
      await engine.verify(k.token, `10.0.0.${i % 2}`);
      clock.advance(5_000); // 10:00:50, :55, then 10:01:00, :05
    }
    // Not flushed yet: last used is this process's own count.
    expect((await bob.getKey(k.id)).lastUsed).toBe('2026-03-01T10:01:05.000Z');
    await engine.flush();
    expect((await store.usageSince(Date.parse('2026-03-01T10:01:00Z'))).map((u) => u.uses)).toEqual([2]);
    expect((await store.usageSince(Date.parse('2026-03-01T10:00:00Z'))).map((u) => u.uses)).toEqual([4]);
    const last = (await store.lastUsedOf([k.id])).get(k.id)!;
    expect(last.lastUsed).toBe(Date.parse('2026-03-01T10:01:05Z'));
    expect(last.lastUsedFrom.map((a) => a.address)).toEqual(['10.0.0.1', '10.0.0.0']);
    expect((await alice.usage({ since: '1h' })).map((r) => [r.keyId, r.uses, r.lastUsed])).toEqual([[k.id, 4, '2026-03-01T10:01:05.000Z']]);
  });

  it("reuses the store's answer about a key's last use for a moment, and asks again once it flushed that key", async () => {
    const clock = manualClock();
    const store = new MemoryStore();
    const { bob, engine } = await seededStore({ clock, store });
    const k = await bob.generateKey({ description: 'k' });
    let asked = 0;
    const real = store.lastUsedOf.bind(store);
    store.lastUsedOf = async (ids) => {
      asked++;
      return real(ids);
    };
    expect((await bob.getKey(k.id)).lastUsed).toBeUndefined();
    expect((await bob.getKey(k.id)).lastUsed).toBeUndefined();
    expect(asked).toBe(1);
    await engine.verify(k.token);
    const used = new Date(clock.now()).toISOString();
    expect((await bob.getKey(k.id)).lastUsed).toBe(used); // this process's own count
    expect(asked).toBe(1);
    clock.advance(1000);
    await engine.flush();
    expect((await bob.getKey(k.id)).lastUsed).toBe(used); // now from the store
    expect(asked).toBe(2);
  });

  it('keeps counts the store refused and writes them with the next flush', async () => {
    const clock = manualClock();
    const store = new MemoryStore();
    const { bob, engine } = await seededStore({ clock, store });
    const k = await bob.generateKey({ description: 'k' });
    for (let i = 0; i < 3; i++) await engine.verify(k.token);
    const real = store.recordUsage.bind(store);
    store.recordUsage = async () => {
      throw new Error('disk full');
    };
    await expect(engine.flush()).rejects.toThrow('disk full');
    store.recordUsage = real;
    await engine.verify(k.token);
    await engine.flush();
    expect((await store.usageSince(0)).map((u) => u.uses)).toEqual([4]);
  });
});

describe('retention', () => {
  it('removes events and usage older than the tenant setting, in a sweep, never the newer ones', async () => {
    const clock = manualClock(Date.parse('2026-01-01T00:00:00Z'));
    const store = new MemoryStore();
    const { alice, bob, engine } = await seededStore({ clock, store });
    const old = await bob.generateKey({ description: 'old', expiry: 'P30D' });
    await engine.verify(old.token);
    await engine.flush();
    clock.advance(2 * 86_400_000);
    const recent = await bob.generateKey({ description: 'recent' });
    await engine.verify(recent.token);
    await engine.flush();
    await engine.sweep(); // P90D: nothing is old enough
    expect((await alice.listEvents({ keyId: old.id })).data.length).toBe(2);
    expect(await alice.updateSettings({ events_retention: '1d' })).toMatchObject({ events_retention: 'P1D' });
    await engine.sweep();
    expect((await alice.listEvents({ keyId: old.id })).data).toEqual([]);
    expect((await alice.listEvents({ keyId: recent.id })).data.map((e) => e.eventType).sort()).toEqual(['api-key.generated', 'api-key.used']);
    expect((await store.usageSince(0)).map((u) => u.keyId)).toEqual([recent.id]);
    // Last used is a fact about the key, kept past retention.
    expect((await alice.getKey(old.id)).lastUsed).toBe('2026-01-01T00:00:00.000Z');
    await engine.close();
  });
});
