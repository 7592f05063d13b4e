// The columns of a key list. Keys shows the owner; My keys does not need to.
// Wide terminals get the whole id, narrow ones its first characters.

import { type KeyView, expiresSoon, relativeTime, sinceTime } from '@keyward/core';
import { STATUS_LABEL, day, shortId } from '../text/format.js';
import type { Theme } from '../theme.js';
import type { Column } from './table.js';

/** `uses`: uses per key id in the last day, for a USES column (Keys shows it; a key used far more than the others stands out). */
export function keyColumns(theme: Theme, now: number, width: number, opts: { owner: boolean; uses?: ReadonlyMap<string, number> | null }): Column<KeyView>[] {
  const fullId = width >= 130;
  const cols: Column<KeyView>[] = [
    { title: 'DESCRIPTION', width: 12, grow: true, cell: (k) => k.description },
    { title: 'ID', width: fullId ? 24 : 8, cell: (k) => (fullId ? k.id : shortId(k.id)) },
  ];
  if (opts.owner) cols.push({ title: 'OWNER', width: 10, cell: (k) => k.sub });
  // With the uses column, a narrow terminal leaves out the created date (the details show it).
  if (opts.uses === undefined || width >= 100) cols.push({ title: 'CREATED', width: 10, cell: (k) => day(k.created) });
  cols.push(
    {
      title: 'EXPIRES',
      width: 9,
      cell: (k) => relativeTime(k.expiry, now) + (expiresSoon(k, now) ? ' ⚠' : ''),
      color: (k) => (expiresSoon(k, now) ? theme.warning : undefined),
    },
    { title: 'LAST USED', width: 9, cell: (k) => sinceTime(k.lastUsed, now) },
    ...(opts.uses !== undefined ? [{ title: 'USES 24H', width: 8, align: 'right' as const, cell: (k: KeyView) => (opts.uses ? (opts.uses.get(k.id) ?? 0).toLocaleString('en-US') : '…') }] : []),
    { title: 'STATUS', width: 9, cell: (k) => STATUS_LABEL[k.status], color: (k) => theme.status[k.status] },
  );
  return cols;
}
