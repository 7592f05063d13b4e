// The faces' words for a key list — a sort such as `-created`, a status —
// checked here, in core. Filtering, sorting and paging happen in the store
// (store/tenant-state.ts for stores held in memory), so a face only ever
// holds the window of rows it shows.

import { KEY_STATUSES, type KeyStatus } from './domain.js';
import { printable } from './duration.js';
import { refuse } from './refusal.js';
import type { KeySortField } from './service.js';

const SORT_FIELDS: readonly KeySortField[] = ['created', 'description', 'status', 'sub', 'createdByUser', 'expiry', 'lastUsed'];

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
