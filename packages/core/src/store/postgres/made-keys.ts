// What a cached answer about an owner's keys becomes when a change did
// nothing to keys but make new ones (StoreChange.made): the new keys added
// to it, where that is provably the answer the database would give now;
// undefined where it is not, and the answer is asked again.
//
// A cached answer was read from one snapshot; a key made meanwhile may or
// may not be in it (its notification can arrive after a read that already
// saw it). Adding a key twice would be wrong, so each rule below first
// proves whether the snapshot held it. Makes commute (each adds a key no
// other change touches), so notifications applied in any order agree.

import type { ApiKey } from '../../domain.js';
import type { FoundPage } from '../boundary.js';
import { markAfterMaking } from './keys-table.js';

/**
 * An owner's active count as cached: good while now < until; `newest`: when
 * the owner's newest key (any status) was made, as of the same snapshot;
 * `seen`, where known, the mark of the owner's keys (keys-table.ts
 * CHANGE_MARK) that goes with the count and when it was counted — what a
 * create decided on this count gives its check (expectations.ts), so the
 * database compares the mark instead of counting the owner's keys again.
 */
export interface ActiveCount {
  n: number;
  until: number;
  newest: number | undefined;
  seen?: { changes: number; at: number };
}

/**
 * The count with `made` (that owner's new keys) in it. A key made later than
 * the snapshot's newest key cannot have been in it; one made no later might
 * have been, so then the count is asked again. A new key counts while it is
 * active: the count holds until it expires, as for the keys counted. The
 * mark moves for every key made, active or not (each adds a key and a
 * change); it is the database's while no other change to the owner's keys
 * came meanwhile — only a guess, which a create's check compares.
 */
export function countWithMade(count: ActiveCount, made: readonly ApiKey[]): ActiveCount | undefined {
  let { n, until, newest } = count;
  for (const k of made) {
    const created = Date.parse(k.created);
    if (!(count.newest === undefined || created > count.newest)) return undefined;
    if (newest === undefined || created > newest) newest = created;
    if (k.revokedAt !== undefined) continue;
    n++;
    until = Math.min(until, Date.parse(k.expiry));
  }
  const seen = count.seen && { changes: count.seen.changes + markAfterMaking(made.length), at: count.seen.at };
  return seen ? { n, until, newest, seen } : { n, until, newest };
}

/**
 * A first page in creation order (findKeys's: created, then id; no filter,
 * cursor or offset) with `made` (new keys it may show) in it. Its rows and
 * total are of one snapshot (keys-table.ts findKeys asks both in one
 * statement). A new key that sorts before the page's last row, or anywhere
 * when no rows follow the page, would be on the page had the snapshot held
 * it: there, it is, or it is added and counted. A key past the last row of a
 * page with more rows after it may be in the total already: asked again.
 */
export function pageWithMade(page: FoundPage<ApiKey>, descending: boolean, limit: number, made: readonly ApiKey[]): FoundPage<ApiKey> | undefined {
  let { data, total, hasNext } = page;
  for (const k of made) {
    if (data.some((row) => row.id === k.id)) continue;
    const at = data.findIndex((row) => sortsBefore(k, row, descending));
    if (at === -1 && hasNext) return undefined;
    const i = at === -1 ? data.length : at;
    data = [...data.slice(0, i), k, ...data.slice(i)];
    total++;
    if (data.length > limit) {
      data = data.slice(0, limit);
      hasNext = true;
    }
  }
  return { ...page, data, total, hasNext };
}

/** findKeys's creation order: created (descending or not), then id ascending (the id column is COLLATE "C": code point order). */
function sortsBefore(a: ApiKey, b: ApiKey, descending: boolean): boolean {
  const d = Date.parse(a.created) - Date.parse(b.created);
  if (d !== 0) return descending ? d > 0 : d < 0;
  return a.id < b.id;
}
