// A windowed table: it is handed only the rows of the visible window and
// draws each as one line of fixed-width cells, so the cursor row is a solid
// inverse bar and columns line up whatever the text holds.

import { Box, Text } from 'ink';
import { safeText } from '@keyward/core';
import { fit } from '../text/fit.js';
import { useTheme } from '../theme.js';

export interface Column<T> {
  title: string;
  /** Columns; the one column with `grow` takes what is left. */
  width: number;
  grow?: boolean;
  align?: 'left' | 'right';
  /** Hidden when the table is narrower than this. */
  hideBelow?: number;
  /** Plain text; stored text is made inert here. */
  cell(row: T): string;
  color?(row: T): string | undefined;
}

export interface TableProps<T> {
  columns: Column<T>[];
  /** The visible window's rows; undefined for a row still being fetched. */
  rows: (T | undefined)[];
  /** Index of the cursor within `rows`, or -1. */
  cursor: number;
  focused: boolean;
  width: number;
  height: number;
  isSelected?(row: T): boolean;
  empty: string;
}

const MARKER = 3;

export function layoutColumns<T>(columns: Column<T>[], width: number): Column<T>[] {
  const shown = columns.filter((c) => !c.hideBelow || width >= c.hideBelow);
  const fixed = shown.reduce((n, c) => n + (c.grow ? 0 : c.width) + 1, MARKER);
  return shown.map((c) => (c.grow ? { ...c, width: Math.max(c.width, width - fixed) } : c));
}

export function Table<T>({ columns, rows, cursor, focused, width, height, isSelected, empty }: TableProps<T>) {
  const theme = useTheme();
  const cols = layoutColumns(columns, width);
  const header = ' '.repeat(MARKER) + cols.map((c) => fit(c.title, c.width, c.align)).join(' ');
  const lines = rows.slice(0, Math.max(0, height - 1));
  return (
    <Box flexDirection="column" height={height} width={width}>
      <Text bold color={theme.muted} wrap="truncate">
        {header}
      </Text>
      {lines.length === 0 ? (
        <Text color={theme.muted}>  {empty}</Text>
      ) : (
        lines.map((row, i) => {
          const here = i === cursor;
          const selected = row !== undefined && !!isSelected?.(row);
          const marker = (here ? '›' : ' ') + (selected ? '✓' : ' ') + ' ';
          return (
            <Text key={i} wrap="truncate" inverse={here && focused} bold={here}>
              {marker}
              {row === undefined ? (
                <Text color={theme.muted}>{fit('…', width - MARKER)}</Text>
              ) : (
                cols.map((c, j) => (
                  <Text key={j} color={c.color?.(row)}>
                    {(j === 0 ? '' : ' ') + fit(safeText(c.cell(row)), c.width, c.align)}
                  </Text>
                ))
              )}
            </Text>
          );
        })
      )}
    </Box>
  );
}
