// Draws a text field with a block cursor. The field's state lives with its
// owner (state/text-field.ts); keys reach it through the keypress layer.

import { Text } from 'ink';
import { safeText } from '@keyward/core';
import type { TextField } from '../state/text-field.js';
import { useTheme } from '../theme.js';

export function TextInput({ field, width, placeholder = '', mask = false }: { field: TextField; width: number; placeholder?: string; mask?: boolean }) {
  const theme = useTheme();
  const chars = [...(mask ? '•'.repeat([...field.value].length) : safeText(field.value))];
  if (chars.length === 0) {
    return (
      <Text>
        <Text inverse> </Text>
        <Text color={theme.muted}>{placeholder.slice(0, Math.max(0, width - 1))}</Text>
      </Text>
    );
  }
  // Keep the cursor in view: show the part of the text around it.
  const room = Math.max(1, width - 1);
  const start = Math.max(0, Math.min(field.cursor - room + 1, chars.length - room + 1));
  const before = chars.slice(start, field.cursor).join('');
  const at = chars[field.cursor] ?? ' ';
  const after = chars.slice(field.cursor + 1, start + room).join('');
  return (
    <Text wrap="truncate">
      {before}
      <Text inverse>{at}</Text>
      {after}
    </Text>
  );
}
