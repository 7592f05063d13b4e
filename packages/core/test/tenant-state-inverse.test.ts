// TenantState.inverseOf: the ops that put back every record a group of
// entries touches. The journal applies them, newest entry first, to hide a
// commit group from reads until its record is durable (journal.ts
// commitGroup), then applies the group again: state, lists and counts must be
// exactly as before, then exactly as after.
import { describe, expect, it } from 'vitest';
import { type ApiKey, DEFAULT_SETTINGS, type StoreDocument, type StoreOp, TenantState, type User } from '../src/index.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();
const key = (i: number, owner: string, over: Partial<ApiKey> = {}): ApiKey => ({ id: i.toString(16).padStart(24, '0'), description: `key ${i}`, owner, createdBy: owner, created: iso(T0 + i * 1000), lastUpdated: iso(T0), expiry: iso(T0 + 86_400_000), hash: '', ...over });
const user = (id: string, licence = true): User => ({ id, licence, roles: ['Developer'], created: iso(T0) });

function view(s: TenantState) {
  return {
    tenant: s.tenant,
    users: [...s.users.entries()].sort(),
    keys: s.findKeys({ limit: 100, now: T0 }).data.map((k) => ({ ...k })),
    ann: s.findKeys({ owner: 'ann', limit: 100, now: T0, descending: true }).data.map((k) => k.id),
    bob: s.findKeys({ owner: 'bob', limit: 100, now: T0 }).data.map((k) => k.id),
    counts: ['ann', 'bob'].map((o) => s.countActiveKeys(o, T0)),
  };
}

describe('TenantState.inverseOf', () => {
  it('puts back every record a group touched, whatever the group did, and the group applies again', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let round = 0; round < 200; round++) {
      const s = TenantState.fromDocument({ tenant: { id: 't', name: 'n', created: iso(T0), settings: DEFAULT_SETTINGS }, users: { ann: user('ann'), bob: user('bob') }, keys: Object.fromEntries([1, 2, 3].map((i) => [key(i, i % 2 ? 'ann' : 'bob').id, key(i, i % 2 ? 'ann' : 'bob')])) } as unknown as StoreDocument);
      const before = view(s);
      // A group of one to three entries, each of one to three ops on a few records (some the same twice).
      const entries: StoreOp[][] = Array.from({ length: 1 + Math.floor(rnd() * 3) }, () =>
        Array.from({ length: 1 + Math.floor(rnd() * 3) }, (): StoreOp => {
          const i = 1 + Math.floor(rnd() * 5);
          const owner = rnd() < 0.5 ? 'ann' : 'bob';
          switch (Math.floor(rnd() * 5)) {
            case 0:
              return { op: 'putKey', key: key(i, owner, { description: `changed ${rnd()}` }) };
            case 1:
              return { op: 'putKey', key: key(i, owner, { revokedAt: iso(T0) }) };
            case 2:
              return { op: 'deleteKey', id: key(i, owner).id };
            case 3:
              return rnd() < 0.5 ? { op: 'putUser', user: user(rnd() < 0.5 ? 'ann' : 'cy', rnd() < 0.5) } : { op: 'deleteUser', id: rnd() < 0.5 ? 'bob' : 'cy' };
            default:
              return { op: 'putTenant', tenant: { id: 't', name: `renamed ${rnd()}`, created: iso(T0), settings: DEFAULT_SETTINGS } };
          }
        }),
      );
      const inverses: StoreOp[][] = [];
      for (const ops of entries) {
        inverses.push(s.inverseOf(ops)!);
        s.apply(ops);
      }
      const after = view(s);
      for (const ops of [...inverses].reverse()) s.apply(ops);
      expect(view(s), `round ${round}`).toEqual(before);
      for (const ops of entries) s.apply(ops);
      expect(view(s), `round ${round}`).toEqual(after);
    }
  });

  it('has none for a first tenant (nothing puts back its absence)', () => {
    expect(new TenantState().inverseOf([{ op: 'putTenant', tenant: { id: 't', name: 'n', created: iso(T0), settings: DEFAULT_SETTINGS } }])).toBeUndefined();
  });
});
