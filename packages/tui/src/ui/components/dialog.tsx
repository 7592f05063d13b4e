// A bordered panel drawn in place of the screen's list while it is open.

import { Box, Text } from 'ink';
import type { ReactNode } from 'react';
import { useTheme } from '../theme.js';

export function Dialog({ title, width, height, children, tone, maxWidth = 76 }: { title: string; width: number; height: number; children: ReactNode; tone?: 'danger'; maxWidth?: number }) {
  const theme = useTheme();
  const color = tone === 'danger' ? theme.danger : theme.accent;
  const w = Math.min(width, maxWidth);
  return (
    <Box width={width} height={height} justifyContent="center" alignItems="flex-start" overflow="hidden">
      <Box flexDirection="column" borderStyle="round" borderColor={color} width={w} paddingX={1} flexShrink={0}>
        <Text bold color={color} wrap="truncate">
          {title}
        </Text>
        {children}
      </Box>
    </Box>
  );
}

/** A label and a value on one line, for details. */
export function Field({ label, value, color, width = 14 }: { label: string; value: string; color?: string; width?: number }) {
  const theme = useTheme();
  return (
    <Box>
      <Box width={width} flexShrink={0}>
        <Text color={theme.muted}>{label}</Text>
      </Box>
      <Text color={color} wrap="truncate">
        {value}
      </Text>
    </Box>
  );
}
