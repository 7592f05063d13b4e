// The line above a key list: what it shows (position, filter, search), or
// the search field while one is being typed.

import { Box, Text } from 'ink';
import { safeText } from '@keyward/core';
import type { KeyBrowser } from '../hooks/use-key-browser.js';
import { plural } from '../text/format.js';
import { useTheme } from '../theme.js';
import { TextInput } from './text-input.js';

export function BrowserTitle({ title, browser: b, width, extra }: { title: string; browser: KeyBrowser; width: number; extra?: string }) {
  const theme = useTheme();
  if (b.searching) {
    return (
      <Box width={width}>
        <Text bold>Search: </Text>
        <Box width={Math.max(10, width - 40)}>
          <TextInput field={b.search} width={Math.max(10, width - 40)} placeholder="description, id or owner" />
        </Box>
        <Text color={theme.muted} wrap="truncate">
          {`  ${b.loaded ? plural(b.total, 'match', 'matches') : '…'} · enter keep · esc clear`}
        </Text>
      </Box>
    );
  }
  const position = b.loaded ? (b.total === 0 ? plural(0, 'key') : `${(b.list.cursor + 1).toLocaleString('en-US')}/${plural(b.total, 'key')}`) : 'loading…';
  const parts = [position, `status ${b.status ?? 'all'}`];
  if (b.search.value) parts.push(`search "${safeText(b.search.value)}" (esc clears)`);
  if (extra) parts.push(extra);
  return (
    <Box width={width}>
      <Text wrap="truncate">
        <Text bold>{title}</Text>
        <Text color={theme.muted}>{'  ' + parts.join(' · ')}</Text>
      </Text>
    </Box>
  );
}
