// The usage panel of Events: keys ranked by uses in the last hour and day,
// with a bar against the busiest key, and the engine's excessive-use flag.

import { Box, Text } from 'ink';
import type { KeyUsage } from '../hooks/use-usage.js';
import { STATUS_LABEL } from '../text/format.js';
import { useTheme } from '../theme.js';
import { type Column, Table } from './table.js';

const BAR = 10;

function bar(uses: number, max: number): string {
  if (max <= 0 || uses <= 0) return '';
  return '█'.repeat(Math.max(1, Math.round((uses / max) * BAR)));
}

export function UsagePanel({ rows, cursor, focused, width, height }: { rows: (KeyUsage | undefined)[] | null; cursor: number; focused: boolean; width: number; height: number }) {
  const theme = useTheme();
  const max = Math.max(0, ...(rows ?? []).map((r) => r?.day ?? 0));
  const columns: Column<KeyUsage>[] = [
    { title: 'KEY', width: 12, grow: true, cell: (u) => (u.description || u.keyId) + (u.status === 'active' ? '' : ` (${u.status})`) },
    { title: 'OWNER', width: 10, cell: (u) => u.sub },
    { title: 'USES 1H', width: 9, align: 'right', cell: (u) => u.hour.toLocaleString('en-US') },
    { title: 'USES 24H', width: 9, align: 'right', cell: (u) => u.day.toLocaleString('en-US') },
    // The bar compares each key's day with the busiest key's: a full bar is the busiest.
    { title: 'VS BUSIEST', width: BAR, cell: (u) => bar(u.day, max), color: (u) => (u.excessive ? theme.danger : theme.accent) },
    { title: 'FLAG', width: 11, cell: (u) => (u.excessive ? '⚠ excessive' : u.status === 'active' ? '' : STATUS_LABEL[u.status]), color: (u) => (u.excessive ? theme.danger : undefined) },
  ];
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text wrap="truncate" bold={focused} color={focused ? theme.accent : undefined}>
        {`Usage per key, last hour and last day ${focused ? '(tab: back to events)' : '(tab: focus, then r revokes)'}`}
      </Text>
      <Table columns={columns} rows={rows ?? []} cursor={cursor} focused={focused} width={width} height={height - 1} empty={rows ? 'No key was used in the last day.' : 'Loading…'} />
    </Box>
  );
}
