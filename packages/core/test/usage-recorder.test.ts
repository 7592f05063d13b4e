// The in-memory counts verify keeps (usage.ts): each address a key was used
// from, with when it was last seen, handed over whole by a drain and put back
// by a restore without losing a newer sighting.
import { describe, expect, it } from 'vitest';
import { UsageRecorder } from '../src/usage.js';

const T0 = Date.parse('2026-12-04T10:00:00.000Z');

describe('UsageRecorder addresses', () => {
  it('drains each address once, with when it was last seen', () => {
    const r = new UsageRecorder();
    const c = r.counterFor('k1', 'dev');
    r.recordUse(c, T0, '203.0.113.1');
    r.recordUse(c, T0 + 10, '2001:db8::1');
    r.recordUse(c, T0 + 20, '203.0.113.1');
    r.recordUse(c, T0 + 30);
    const [use] = r.drain(T0 + 40).uses;
    expect(use.uses).toBe(4);
    expect(use.addresses).toEqual([
      { address: '203.0.113.1', lastSeen: T0 + 20 },
      { address: '2001:db8::1', lastSeen: T0 + 10 },
    ]);
  });

  it('starts afresh after a drain: a sighting before it is not carried into the next, nor one after it into the batch drained', () => {
    const r = new UsageRecorder();
    const c = r.counterFor('k1', 'dev');
    r.recordUse(c, T0, '203.0.113.1');
    r.drain(T0 + 1);
    r.recordUse(c, T0 + 2, '203.0.113.2');
    const drained = r.drain(T0 + 3).uses[0];
    expect(drained.addresses).toEqual([{ address: '203.0.113.2', lastSeen: T0 + 2 }]);
    // A batch handed over (being written to the store) is its own: a later use from the same address leaves it as it was.
    r.recordUse(c, T0 + 4, '203.0.113.2');
    expect(drained.addresses).toEqual([{ address: '203.0.113.2', lastSeen: T0 + 2 }]);
  });

  it('a restored batch keeps the newer of its sighting and one made since', () => {
    const r = new UsageRecorder();
    const c = r.counterFor('k1', 'dev');
    r.recordUse(c, T0, '203.0.113.1');
    r.recordUse(c, T0 + 5, '203.0.113.2');
    const batch = r.drain(T0 + 6);
    r.recordUse(c, T0 + 7, '203.0.113.1');
    r.restore(batch);
    const [use] = r.drain(T0 + 8).uses;
    expect(use.uses).toBe(3);
    expect(new Map(use.addresses.map((a) => [a.address, a.lastSeen]))).toEqual(
      new Map([
        ['203.0.113.1', T0 + 7],
        ['203.0.113.2', T0 + 5],
      ]),
    );
  });
});
