// The columns of a key list. Keys shows the owner; My keys does not need to.
// Wide terminals get the whole id, narrow ones its first characters.

import type { KeyView } from '@keyward/core';
import { STATUS_LABEL, day, expiresSoon, relative, shortId } from '../text/format.js';
import type { Theme } from '../theme.js';
import type { Column } from './table.js';

export function keyColumns(theme: Theme, now: number, width: number, opts: { owner: boolean }): Column<KeyView>[] {
  const fullId = width >= 130;
  const cols: Column<KeyView>[] = [
    { title: 'DESCRIPTION', width: 12, grow: true, cell: (k) => k.description },
    { title: 'ID', width: fullId ? 24 : 8, cell: (k) => (fullId ? k.id : shortId(k.id)) },
  ];
  if (opts.owner) cols.push({ title: 'OWNER', width: 10, cell: (k) => k.sub });
  cols.push(
    { title: 'CREATED', width: 10, cell: (k) => day(k.created) },
    {
      title: 'EXPIRES',
      width: 9,
      cell: (k) => relative(k.expiry, now) + (expiresSoon(k.status, k.expiry, now) ? ' ⚠' : ''),
      color: (k) => (expiresSoon(k.status, k.expiry, now) ? theme.warning : undefined),
    },
    { title: 'LAST USED', width: 9, cell: (k) => relative(k.lastUsed, now) },
    { title: 'STATUS', width: 9, cell: (k) => STATUS_LABEL[k.status], color: (k) => theme.status[k.status] },
  );
  return cols;
}
