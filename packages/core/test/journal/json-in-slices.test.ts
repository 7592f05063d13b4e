// The snapshot's JSON made over several turns of the event loop is exactly
// JSON.stringify's, and the loop does run between its slices (a compaction
// of a big store must not stall the verifies beside it).
import { describe, expect, it } from 'vitest';
import { Properties, jsonInSlices } from '../../src/store/json/json-in-slices.js';
import { key } from '../conformance/records.js';

describe('JSON in slices', () => {
  it("makes JSON.stringify's very text, letting the event loop run between slices", async () => {
    const keys: Record<string, unknown> = {};
    for (let i = 0; i < 10_000; i++) keys[`k${i}`] = { ...key(i), description: `clé ${i} "quoted" \u2028 ${'é'.repeat(i % 5)}`, revokedAt: i % 3 ? undefined : '2026-05-01T00:00:00.000Z' };
    const doc = { version: 2, position: 1234, state: { version: 1, tenant: { id: 't', settings: { a: 1, b: [1, 2] } }, users: { alice: { id: 'alice', roles: ['x'] } }, keys, gone: undefined } };
    let turns = 0;
    const ticking = setInterval(() => turns++, 0);
    const chunks = await jsonInSlices(doc);
    clearInterval(ticking);
    expect(Buffer.concat(chunks).toString('utf8')).toBe(JSON.stringify(doc));
    expect(chunks.length).toBeGreaterThan(3);
    expect(turns).toBeGreaterThan(0);
    for (const small of [null, 1, 'x', [1, { a: undefined }], {}, { a: { b: { c: { d: 1 } } } }]) expect(Buffer.concat(await jsonInSlices(small)).toString()).toBe(JSON.stringify(small));
  });

  it('refuses a Map deeper than it walks, which JSON.stringify would write as {}', async () => {
    await expect(jsonInSlices({ state: { keys: { k1: new Map([['a', 1]]) } } })).rejects.toThrow(/Map at depth 3/);
    // Within its depth a Map is the object of its entries.
    expect(Buffer.concat(await jsonInSlices({ state: { keys: new Map([['k1', { id: 'k1' }]]) } })).toString()).toBe('{"state":{"keys":{"k1":{"id":"k1"}}}}');
  });

  it('writes Properties as the object of its names and values, taken when made, and refuses them deeper than it walks', async () => {
    const map = new Map<string, unknown>([['k1', { id: 'k1' }], ['gone', undefined], ['k"2', { id: 'k"2', n: [1] }]]);
    const taken = Properties.of(map);
    map.set('k3', { id: 'k3' });
    map.delete('k1');
    const doc = { state: { keys: taken } };
    expect(Buffer.concat(await jsonInSlices(doc)).toString()).toBe(JSON.stringify({ state: { keys: { k1: { id: 'k1' }, gone: undefined, 'k"2': { id: 'k"2', n: [1] } } } }));
    await expect(jsonInSlices({ state: { keys: { k1: taken } } })).rejects.toThrow(/Properties at depth 3/);
  });
});
