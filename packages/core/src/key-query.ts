// Filtering, searching, sorting and paging keys happens here, in core, so a
// face only ever holds the window of rows it shows. The sorted, filtered list
// is memoised per store document and query, so moving through a 100 000-key
// list costs a slice, not a sort, per page.

import { type ApiKey, KEY_STATUSES, type KeyStatus, type StoreDocument, statusOf } from './domain.js';
import { printable } from './duration.js';
import { refuse } from './refusal.js';
import type { KeyQuery, KeySortField } from './service.js';

const SORT_FIELDS: readonly KeySortField[] = ['created', 'description', 'status', 'sub', 'createdByUser', 'expiry'];

export interface ParsedSort {
  field: KeySortField;
  descending: boolean;
}

export function parseSort(sort: string | undefined): ParsedSort {
  if (sort === undefined || sort === '') return { field: 'created', descending: true };
  const m = /^([+-]?)(\w+)$/.exec(sort.trim());
  const field = m?.[2] as KeySortField | undefined;
  if (!m || !field || !SORT_FIELDS.includes(field)) {
    refuse('INVALID_INPUT', `Cannot sort by "${printable(sort)}"; use [+|-]${SORT_FIELDS.join('|')}.`);
  }
  return { field, descending: m[1] === '-' };
}

export function checkStatus(status: string | undefined): KeyStatus | undefined {
  if (status === undefined || status === '') return undefined;
  if (!(KEY_STATUSES as readonly string[]).includes(status)) {
    refuse('INVALID_INPUT', `"${printable(status)}" is not a status; use active, expired or revoked.`);
  }
  return status as KeyStatus;
}

function sortValue(k: ApiKey, field: KeySortField, now: number): string {
  switch (field) {
    case 'created':
      return k.created;
    case 'description':
      return k.description.toLowerCase();
    case 'status':
      return statusOf(k, now);
    case 'sub':
      return k.owner;
    case 'createdByUser':
      return k.createdBy;
    case 'expiry':
      return k.expiry;
  }
}

interface Memo {
  doc: StoreDocument;
  generation: number;
  second: number;
  signature: string;
  rows: ApiKey[];
}

/** Sorted, filtered keys for a query; `visibleTo` restricts to one owner for non-admins. */
export class KeyIndex {
  private memo?: Memo;

  matching(doc: StoreDocument, generation: number, q: KeyQuery, now: number, ownerOnly?: string): ApiKey[] {
    const status = checkStatus(q.status);
    const sort = parseSort(q.sort);
    const search = q.search?.trim().toLowerCase() ?? '';
    const signature = JSON.stringify([status, sort, search, q.sub ?? '', q.createdByUser ?? '', ownerOnly ?? '']);
    // Statuses change as keys expire, so a memo that filters or sorts by
    // status lasts at most one second; any other order does not change with time.
    const second = status || sort.field === 'status' ? Math.floor(now / 1000) : 0;
    const m = this.memo;
    if (m && m.doc === doc && m.generation === generation && m.second === second && m.signature === signature) return m.rows;

    const rows: ApiKey[] = [];
    for (const id in doc.keys) {
      const k = doc.keys[id];
      if (ownerOnly !== undefined && k.owner !== ownerOnly) continue;
      if (q.sub && k.owner !== q.sub) continue;
      if (q.createdByUser && k.createdBy !== q.createdByUser) continue;
      if (status && statusOf(k, now) !== status) continue;
      if (search && !k.description.toLowerCase().includes(search) && !k.id.includes(search) && !k.owner.toLowerCase().includes(search)) continue;
      rows.push(k);
    }
    const dir = sort.descending ? -1 : 1;
    const values = new Map<ApiKey, string>();
    for (const k of rows) values.set(k, sortValue(k, sort.field, now));
    rows.sort((a, b) => {
      const va = values.get(a)!;
      const vb = values.get(b)!;
      if (va !== vb) return va < vb ? -dir : dir;
      // Ties: newest first, then id, so paging is stable.
      if (a.created !== b.created) return a.created < b.created ? 1 : -1;
      return a.id < b.id ? -1 : 1;
    });
    this.memo = { doc, generation, second, signature, rows };
    return rows;
  }
}
