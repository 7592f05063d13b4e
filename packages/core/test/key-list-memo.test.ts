// A list of one owner's keys (every non-admin's GET /api/v1/api-keys) stays
// sorted while other owners' keys change, and is sorted again as soon as its
// own owner's keys change; a list of everyone's keys follows every change.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type ApiKey, type StoreDocument, TenantState } from '../src/index.js';

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
});
