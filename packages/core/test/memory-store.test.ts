// The v2 memory store: what only it does. The answers every adapter is held
// to (keys found, sorted and paged; events; usage; retention; the change
// signal) are the conformance suite's (conformance/memory.test.ts).
import { describe, expect, it } from 'vitest';
import { type ApiKey, DEFAULT_SETTINGS, MemoryStore, TenantState, newEvent } from '../src/index.js';
import { Properties } from '../src/store/json/json-in-slices.js';

const T0 = Date.parse('2026-05-01T12:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

function key(i: number, over: Partial<ApiKey> = {}): ApiKey {
  const id = i.toString(16).padStart(24, '0');
  return { id, description: `key ${String(i).padStart(2, '0')}`, owner: i % 2 ? 'bob' : 'carol', createdBy: 'alice', created: iso(T0 + i * 1000), lastUpdated: iso(T0), expiry: iso(T0 + (30 - i) * 60_000), hash: 'h', ...over };
}

async function filled(n = 20) {
  const store = new MemoryStore();
  const tenant = { id: 't1', name: 'T', created: iso(T0), settings: { ...DEFAULT_SETTINGS } };
  expect(await store.create({ tenant, users: [{ id: 'alice', licence: true, roles: ['TenantAdmin'], created: iso(T0) }], events: [newEvent('user.added', T0, 'alice', undefined, {})] })).toBe(true);
  expect(await store.create({ tenant, users: [], events: [] })).toBe(false);
  await store.transact(async (tx) => {
    for (let i = 0; i < n; i++) {
      tx.putKey(key(i, i === 3 ? { revokedAt: iso(T0), revokedBy: 'alice' } : {}));
      tx.emit(newEvent('api-key.generated', T0 + i, 'alice', key(i).id, {}));
    }
  });
  return store;
}

describe('memory store (boundary v2)', () => {
  it('counts every matching event, all pages together (it holds them all anyway)', async () => {
    const store = await filled(10);
    expect(await store.findEvents({ limit: 4 })).toMatchObject({ hasPrev: false, hasNext: true, total: 11 });
    expect((await store.findEvents({ limit: 4, types: ['api-key.generated'] })).total).toBe(10);
  });

  it('rebuilds from a whole document and writes it back as a snapshot (snapshots, first-format stores)', () => {
    const tenant = { id: 't', name: 'n', created: iso(T0), settings: { ...DEFAULT_SETTINGS } };
    const bob = { id: 'bob', licence: true, roles: [], created: iso(T0) };
    const again = TenantState.fromDocument({ version: 1, tenant, users: { bob }, keys: { [key(1).id]: key(1) } });
    expect(again.toSnapshot()).toStrictEqual({ version: 1, tenant, users: new Properties(['bob'], [bob]), keys: new Properties([key(1).id], [key(1)]) });
    expect(again.countActiveKeys('bob', T0)).toBe(1);
  });
});
