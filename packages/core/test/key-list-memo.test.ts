// A list of one owner's keys (every non-admin's GET /api/v1/api-keys) stays
// sorted while other owners' keys change, and is sorted again as soon as its
// own owner's keys change; a list of everyone's keys follows every change.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type ApiKey, type StoreDocument, TenantState, statusOf } from '../src/index.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

function key(i: number, owner: string, over: Partial<ApiKey> = {}): ApiKey {
  const id = i.toString(16).padStart(24, '0');
  return { id, description: `key ${i}`, owner, createdBy: owner, created: iso(T0 + i * 1000), lastUpdated: iso(T0), expiry: iso(T0 + 86_400_000), hash: '', ...over };
}

function stateWith(keys: ApiKey[]): TenantState {
  return TenantState.fromDocument({ keys: Object.fromEntries(keys.map((k) => [k.id, k])), users: {} } as unknown as StoreDocument);
}

const ids = (page: { data: readonly ApiKey[] }) => page.data.map((k) => k.id);

afterEach(() => vi.restoreAllMocks());

describe('key lists kept sorted', () => {
  it("are sorted again only when their owner's keys change, and always answer as a fresh sort would", () => {
    const state = stateWith([key(1, 'ann'), key(2, 'bob'), key(3, 'ann'), key(4, 'bob')]);
    const anns = () => state.findKeys({ owner: 'ann', limit: 10, now: T0, descending: true });
    const everyone = () => state.findKeys({ limit: 10, now: T0, descending: true });
    expect(ids(anns())).toEqual([key(3, 'ann').id, key(1, 'ann').id]);
    expect(ids(everyone())).toHaveLength(4);
    const sorts = vi.spyOn(Array.prototype, 'sort');

    // Bob's keys change: Ann's list is not sorted again, and is unchanged; everyone's is.
    state.apply([{ op: 'putKey', key: key(5, 'bob') }]);
    state.apply([{ op: 'putKey', key: { ...key(2, 'bob'), revokedAt: iso(T0) } }]);
    expect(ids(anns())).toEqual([key(3, 'ann').id, key(1, 'ann').id]);
    expect(sorts).not.toHaveBeenCalled();
    expect(ids(everyone())).toEqual([5, 4, 3, 2, 1].map((i) => key(i, 'x').id));
    expect(sorts).toHaveBeenCalledTimes(1);

    // Ann's keys change (a new key, one moved to her, one deleted): her list follows each.
    state.apply([{ op: 'putKey', key: key(6, 'ann') }]);
    expect(ids(anns())).toEqual([6, 3, 1].map((i) => key(i, 'x').id));
    state.apply([{ op: 'putKey', key: key(4, 'ann') }]);
    expect(ids(anns())).toEqual([6, 4, 3, 1].map((i) => key(i, 'x').id));
    state.apply([{ op: 'deleteKey', id: key(3, 'x').id }]);
    expect(ids(anns())).toEqual([6, 4, 1].map((i) => key(i, 'x').id));
    // Moved away from Bob: his list no longer holds it.
    expect(ids(state.findKeys({ owner: 'bob', limit: 10, now: T0, descending: true }))).toEqual([5, 2].map((i) => key(i, 'x').id));
    expect(ids(everyone())).toEqual([6, 5, 4, 2, 1].map((i) => key(i, 'x').id));
  });

  it('keep paging by cursor through one owner while others change', () => {
    const state = stateWith(Array.from({ length: 30 }, (_, i) => key(i + 1, i % 2 ? 'ann' : 'bob')));
    const first = state.findKeys({ owner: 'ann', limit: 5, now: T0, descending: true });
    state.apply([{ op: 'putKey', key: key(100, 'bob') }]);
    const next = state.findKeys({ owner: 'ann', limit: 5, now: T0, descending: true, startingAfter: first.data[4]!.id });
    expect(ids(next)).toEqual([20, 18, 16, 14, 12].map((i) => key(i, 'x').id));
  });

  it('sort by every field as the rule says: the field, then newest first, then id', () => {
    let seed = 11;
    const rand = (n: number) => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
    const keys = Array.from({ length: 120 }, (_, i) =>
      key(i + 1, `u${rand(4)}`, { createdBy: `c${rand(3)}`, description: `d${rand(5)}`, created: iso(T0 + rand(20) * 1000), expiry: iso(T0 + (rand(6) - 2) * 60_000), ...(rand(5) === 0 ? { revokedAt: iso(T0) } : {}) }),
    );
    const state = stateWith(keys);
    const valueOf: Record<string, (k: ApiKey) => string | number> = {
      created: (k) => k.created,
      sub: (k) => k.owner,
      createdByUser: (k) => k.createdBy,
      description: (k) => k.description.toLowerCase(),
      expiry: (k) => Date.parse(k.expiry),
      status: (k) => statusOf(k, T0),
    };
    for (const [order, value] of Object.entries(valueOf)) {
      for (const descending of [false, true]) {
        const dir = descending ? -1 : 1;
        const expected = [...keys].sort((a, b) => {
          const [va, vb] = [value(a), value(b)];
          if (va !== vb) return va < vb ? -dir : dir;
          if (a.created !== b.created) return a.created < b.created ? 1 : -1;
          return a.id < b.id ? -1 : 1;
        });
        const found = state.findKeys({ limit: 1000, now: T0, order: order as never, descending });
        expect(ids(found), `${order} ${descending ? 'descending' : 'ascending'}`).toEqual(expected.map((k) => k.id));
      }
    }
  });
});
