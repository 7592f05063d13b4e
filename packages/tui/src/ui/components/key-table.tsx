// The key list of Keys and My keys: the browser's title line (position,
// filter, search) over the table of keys, with the columns of key-columns.ts.
// One component, so both lists read and move alike.

import type { KeyView } from '@keyward/core';
import { Box } from 'ink';
import { useAppState } from '../app-context.js';
import type { KeyBrowser } from '../hooks/use-key-browser.js';
import { useTheme } from '../theme.js';
import { BrowserTitle } from './browser-title.js';
import { keyColumns } from './key-columns.js';
import { Table } from './table.js';

export interface KeyTableProps {
  title: string;
  browser: KeyBrowser;
  width: number;
  height: number;
  /** Show the owner column (Keys: every owner's keys). */
  owner: boolean;
  /** Uses per key in the last day, for the USES column (Keys). */
  uses?: ReadonlyMap<string, number> | null;
  /** After the title: a selection count, keys expiring soon. */
  extra?: string;
  isSelected?: (k: KeyView) => boolean;
  /** What an empty list says when no search or filter is on. */
  noKeys: string;
}

export function KeyTable({ title, browser: b, width, height, owner, uses, extra, isSelected, noKeys }: KeyTableProps) {
  const { now } = useAppState();
  const theme = useTheme();
  return (
    <Box flexDirection="column" width={width} height={height}>
      <BrowserTitle title={title} browser={b} width={width} extra={extra} />
      <Table
        columns={keyColumns(theme, now, width, { owner, uses })}
        rows={b.rows}
        cursor={b.list.cursor - b.list.top}
        focused
        width={width}
        height={height - 1}
        isSelected={isSelected}
        empty={b.loaded ? (b.search.value || b.status ? 'No key matches.' : noKeys) : 'Loading…'}
      />
    </Box>
  );
}
