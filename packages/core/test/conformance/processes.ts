// What a store shared by several processes must keep: N writers at once lose
// nothing, and a revoke made through one process reaches the others' caches
// (onChange) within the documented bound — 100 ms for a file store, 1 s for
// PostgreSQL. Real child processes (child.ts), never simulated ones.
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/boundary.js';
import { type Child, startChild } from '../child.js';
import { T0, event, iso, key, tenant, user } from './records.js';

export interface ProcessStoreFactory {
  /** A module exporting `openStore(location: string): Store`, imported by each child process. */
  childModule: string;
  /** A new store with nothing in it, and where it lives. */
  create(): Promise<{ location: string; store: Store }>;
  /** The the documented bound for another process to see a change (ms). */
  changeSeenWithinMs: number;
}

const childScript = fileURLToPath(new URL('./child.ts', import.meta.url));

function startOn(factory: ProcessStoreFactory, location: string, ...args: string[]): Child {
  // A watcher's reaction time is held to the bound: it runs as a timed child.
  return startChild(childScript, [factory.childModule, location, ...args], 'pipe', { timed: args[0] === 'watch' });
}

async function until(what: string, condition: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
}

export function describeStoreAcrossProcesses(name: string, factory: ProcessStoreFactory): void {
  const children: Child[] = [];
  const stores: Store[] = [];
  afterEach(async () => {
    for (const c of children.splice(0)) {
      c.child.stdin?.end();
      c.child.kill('SIGKILL');
    }
    await Promise.all(stores.splice(0).map((s) => s.close().catch(() => undefined)));
  });

  async function fresh(): Promise<{ location: string; store: Store }> {
    const made = await factory.create();
    stores.push(made.store);
    await made.store.create({ tenant: { ...tenant(), settings: { ...tenant().settings, apiKeysEnabled: true } }, users: [user('alice', true), user('bob')], events: [] });
    return made;
  }

  describe(`store conformance across processes: ${name}`, () => {
    it('loses nothing when four processes write 25 keys each at once', async () => {
      const { location, store } = await fresh();
      const writers = [0, 1, 2, 3].map((w) => startOn(factory, location, 'write', `w${w}x`, '25'));
      children.push(...writers);
      expect(await Promise.all(writers.map((w) => w.exited))).toEqual([0, 0, 0, 0]);
      const acked = writers.flatMap((w) => w.lines.filter((l) => l.startsWith('ack ')).map((l) => l.slice(4)));
      expect(acked).toHaveLength(100);

      // This process sees every one, and each key's event.
      expect(await store.keysOf('bob')).toHaveLength(100);
      for (const id of acked) expect(await store.getKey(id), id).toBeDefined();
      const generated = new Set<string>();
      let page = await store.findEvents({ limit: 50, types: ['api-key.generated'] });
      for (;;) {
        for (const e of page.data) generated.add(e.keyId!);
        if (!page.hasNext) break;
        page = await store.findEvents({ limit: 50, types: ['api-key.generated'], startingAfter: page.data[page.data.length - 1].id });
      }
      expect([...generated].sort()).toEqual([...acked].sort());
    });

    it(`three processes on one store: 200 revokes through one, each seen by the other two (onChange) within ${factory.changeSeenWithinMs} ms`, async () => {
      const { location, store } = await fresh();
      const keys = Array.from({ length: 200 }, (_, i) => key(1000 + i, { owner: 'bob', expiry: iso(Date.now() + 86_400_000) }));
      await store.transact((tx) => keys.forEach((k) => tx.putKey(k)));
      const watchers = [startOn(factory, location, 'watch'), startOn(factory, location, 'watch')];
      children.push(...watchers);
      await until('both watchers to be ready', () => watchers.every((w) => w.lines.includes('ready')), 30_000);
      const revokedAt = new Map<string, number>();
      for (const k of keys) {
        await store.transact((tx) => {
          tx.putKey({ ...k, revokedAt: iso(T0), revokedBy: 'alice' });
          tx.emit(event('api-key.revoked', T0, 'alice', k.id));
        });
        revokedAt.set(k.id, Date.now()); // acknowledged: durable from here on
        await new Promise((r) => setTimeout(r, 5));
      }
      const seenCount = () => watchers.reduce((n, w) => n + w.lines.filter((l) => l.startsWith('seen ')).length, 0);
      await until('every revoke to be seen by both', () => seenCount() === 400, 10_000);
      const latencies: number[] = [];
      for (const w of watchers) {
        for (const line of w.lines.filter((l) => l.startsWith('seen '))) {
          const [, id, at] = line.split(' ');
          // Seen before the revoker's clock read after its ack counts as 0.
          latencies.push(Math.max(0, Number(at) - revokedAt.get(id!)!));
        }
      }
      latencies.sort((a, b) => a - b);
      console.log(`${name}: 400 revokes seen by another process — p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms, max ${latencies[latencies.length - 1]} ms`);
      expect(latencies).toHaveLength(400);
      expect(latencies[latencies.length - 1]).toBeLessThanOrEqual(factory.changeSeenWithinMs);
    });
  });
}
