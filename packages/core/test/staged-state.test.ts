// A commit group's view (staged-state.ts) answers every read a transaction
// may ask as the state with the group's writes applied would — the key
// limit's count above all, across owners changed, revoked, expired and
// deleted keys — and leaves the committed state exactly as it was.
import { describe, expect, it } from 'vitest';
import { StagedState } from '../src/store/staged-state.js';
import { type StoreOp, TenantState } from '../src/store/tenant-state.js';
import { T0, iso, key, tenant, user } from './conformance/records.js';

function committed(): TenantState {
  const s = new TenantState();
  s.apply([{ op: 'putTenant', tenant: tenant() }, ...['alice', 'bob', 'carol'].map((id): StoreOp => ({ op: 'putUser', user: user(id, id === 'alice') }))]);
  s.apply(Array.from({ length: 12 }, (_, i): StoreOp => ({ op: 'putKey', key: key(i) })));
  return s;
}

/** Pseudo-random writes (a fixed seed, so a failure can be read again). */
function writes(seed: number, count: number): StoreOp[][] {
  let x = seed;
  const next = (n: number) => ((x = (x * 1103515245 + 12345) % 2147483648) % n);
  const owners = ['alice', 'bob', 'carol'];
  return Array.from({ length: count }, () =>
    Array.from({ length: 1 + next(3) }, (): StoreOp => {
      const i = next(20);
      switch (next(5)) {
        case 0:
          return { op: 'deleteKey', id: key(i).id };
        case 1:
          return { op: 'putKey', key: key(i, { owner: owners[next(3)], revokedAt: iso(T0) }) };
        case 2:
          return { op: 'putUser', user: user(`u${next(4)}`) };
        case 3:
          return { op: 'deleteUser', id: `u${next(4)}` };
        default:
          return { op: 'putKey', key: key(i, { owner: owners[next(3)], expiry: iso(T0 + next(40) * 60_000) }) };
      }
    }),
  );
}

describe('a commit group\'s staged view', () => {
  it('answers each read as the state with the group\'s writes applied, and leaves the committed state as it was', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const base = committed();
      const untouched = committed();
      const expected = committed();
      const staged = new StagedState(base);
      for (const ops of writes(seed, 6)) {
        staged.stage(ops);
        expected.apply(ops);
        for (const owner of ['alice', 'bob', 'carol', 'nobody']) {
          for (const now of [T0, T0 + 15 * 60_000, T0 + 45 * 60_000]) expect(staged.countActiveKeys(owner, now), `seed ${seed} ${owner}`).toBe(expected.countActiveKeys(owner, now));
          const byId = (keys: { id: string }[]) => [...keys].sort((a, b) => (a.id < b.id ? -1 : 1));
          expect(byId(staged.keysOf(owner))).toEqual(byId(expected.keysOf(owner)));
        }
        for (let i = 0; i < 20; i++) expect(staged.getKey(key(i).id)).toEqual(expected.getKey(key(i).id));
        for (const id of ['alice', 'u0', 'u1', 'u2', 'u3']) expect(staged.getUser(id)).toEqual(expected.getUser(id));
        expect(staged.listUsers()).toEqual(expected.listUsers());
        expect(staged.findKeys({ limit: 50, now: T0 }).data).toEqual(expected.findKeys({ limit: 50, now: T0 }).data);
        expect(staged.keysByIdPrefix('0000', 50)).toEqual(expected.keysByIdPrefix('0000', 50));
        expect(staged.tenant).toEqual(expected.tenant);
      }
      expect(base.findKeys({ limit: 50, now: T0 })).toEqual(untouched.findKeys({ limit: 50, now: T0 }));
      expect(base.listUsers()).toEqual(untouched.listUsers());
      for (const owner of ['alice', 'bob', 'carol']) expect(base.countActiveKeys(owner, T0)).toBe(untouched.countActiveKeys(owner, T0));
    }
  });
});
