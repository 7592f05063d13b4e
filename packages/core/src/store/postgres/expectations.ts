// A transaction decided on what this server last saw, sent whole in one
// round trip. A create is usually decided on values the server has seen
// before — the tenant's settings, the actor, the owner's active count — so
// it need not ask for them inside the transaction and wait for the answer
// before it writes. Its reads are answered from what was last seen
// (last-seen.ts; read from the pool when nothing was), and each answer is
// kept as an expectation. The transaction then goes out in one write: BEGIN,
// the locks the locking reads would take (the tenant FOR SHARE, each user
// read or counted FOR UPDATE — an owner's row before the count, as
// store.ts's lockingReads), one statement that checks every expectation
// against the database as it is once those locks are held, the writes,
// COMMIT. If any expectation no longer holds, that statement aborts the
// transaction (still_as_seen, migration 4), nothing is written, and the
// store runs the use case again the locking way, which gives the answer —
// a refusal included — on what the locks hold.
//
// The rules stay in core: the SQL decides nothing, it only says whether each
// value core decided on is still the value in the database. Keys are not
// remembered here: a key read is taken as absent (the fresh ids a create
// checks), so a use case that reads an existing key always runs the locking
// way, as does one that lists users or keys.

import type { Tenant, User } from '../../domain.js';
import type { StoreReads, Transaction } from '../boundary.js';
import { readTenant } from './tenant-table.js';
import type { LastSeen } from './last-seen.js';
import { SCHEMA, type Sql } from './sql.js';
import { lockUserRow } from './users-table.js';

/** Thrown by a read that cannot be answered from what was seen: the use case runs the locking way. */
export class NotSeen extends Error {}

/** The values a transaction was decided on, and the rows whose locks make them hold until commit. */
export class Expectations {
  tenant?: { value: Tenant | undefined };
  readonly users = new Map<string, User | undefined>();
  /** Each owner's active count as answered, with the time it was counted at. */
  readonly counts = new Map<string, { n: number; at: number }>();
  /** Key ids answered as absent. */
  readonly absentKeys = new Set<string>();
  /** Users whose rows are locked, in the order they were first read, counted or locked. */
  readonly locked: string[] = [];

  lock(id: string): void {
    if (!this.locked.includes(id)) this.locked.push(id);
  }
}

/** Reads answered from what was seen (or, for what was not, from `pool`), each kept in `expected`. */
export function readsOnWhatWasSeen(seen: LastSeen, pool: StoreReads, expected: Expectations): StoreReads & Pick<Transaction, 'lockUser'> {
  const notSeen = () => Promise.reject(new NotSeen());
  return {
    tenant: async () => {
      const value = seen.tenant ? seen.tenant.value : await pool.tenant();
      expected.tenant = { value };
      return value;
    },
    getUser: async (id) => {
      const value = seen.users.has(id) ? seen.users.get(id) : await pool.getUser(id);
      expected.lock(id);
      expected.users.set(id, value);
      return value;
    },
    countActiveKeys: async (owner, now) => {
      const was = seen.active.get(owner);
      const n = was ?? { n: await pool.countActiveKeys(owner, now) };
      expected.lock(owner);
      expected.counts.set(owner, { n: n.n, at: now });
      return n.n;
    },
    lockUser: async (id) => expected.lock(id),
    getKey: async (id) => {
      expected.absentKeys.add(id);
      return undefined;
    },
    listUsers: notSeen,
    keysByIdPrefix: notSeen,
    keysOf: notSeen,
    findKeys: notSeen,
  };
}

// Every expectation in one statement, run once the locks are held (a
// statement of its own, so it sees what the transactions it waited for
// committed). Absent records are NULL on both sides.
const CHECK = `SELECT ${SCHEMA}.still_as_seen(
  (NOT $1::boolean OR (SELECT record FROM ${SCHEMA}.tenant) IS NOT DISTINCT FROM $2::jsonb)
  AND NOT EXISTS (SELECT FROM unnest($3::text[], $4::jsonb[]) AS u(id, record)
    WHERE (SELECT s.record FROM ${SCHEMA}.users s WHERE s.id = u.id) IS DISTINCT FROM u.record)
  AND NOT EXISTS (SELECT FROM unnest($5::text[], $6::timestamptz[], $7::bigint[]) AS a(owner, at, n)
    WHERE (SELECT count(*) FROM ${SCHEMA}.keys k WHERE k.owner = a.owner AND k.revoked_at IS NULL AND k.expiry > a.at) <> a.n)
  AND NOT EXISTS (SELECT FROM ${SCHEMA}.keys WHERE id = ANY($8::text[])))`;

// The tenant's lock and the first user's in one statement (a create's usual
// locks); the tenant first, as the locking reads take them.
const LOCK_TENANT_AND_USER = `SELECT (SELECT 1 FROM ${SCHEMA}.tenant FOR SHARE) AS tenant, (SELECT 1 FROM ${SCHEMA}.users WHERE id = $1 FOR UPDATE) AS owner`;

/** Sends the locks, then the check: statements of a transaction already begun, ahead of its writes. */
export function sendExpectations(c: Sql, expected: Expectations, send: (statement: Promise<unknown>) => void): void {
  const [first, ...others] = expected.locked;
  if (expected.tenant && first !== undefined) send(c.query(LOCK_TENANT_AND_USER, [first]));
  else if (expected.tenant) send(readTenant(c, 'FOR SHARE'));
  else if (first !== undefined) send(lockUserRow(c, first));
  for (const id of others) send(lockUserRow(c, id));
  const users = [...expected.users];
  const counts = [...expected.counts];
  send(
    c.query(CHECK, [
      expected.tenant !== undefined,
      json(expected.tenant?.value),
      users.map(([id]) => id),
      users.map(([, u]) => json(u)),
      counts.map(([owner]) => owner),
      counts.map(([, c]) => new Date(c.at)),
      counts.map(([, c]) => c.n),
      [...expected.absentKeys],
    ]),
  );
}

/** SQLSTATE of still_as_seen's refusal: an expectation no longer held, nothing was written. */
export const CHANGED_SINCE_SEEN = 'KW001';

const json = (v: object | undefined): string | null => (v === undefined ? null : JSON.stringify(v));
