// A token just made (by generating or rotating a key), shown this once with
// `c` to copy it. The token lives only in the state of the dialog that shows
// it: closing the dialog drops it from the screen and from memory.

import { Box, Text } from 'ink';
import { type ReactNode, useState } from 'react';
import { safeText } from '@keyward/core';
import { useAppActions } from '../app-context.js';
import { Layer, useKeypress } from '../keys/keypress-layer.js';
import { dateTime } from '../text/format.js';
import { useTheme } from '../theme.js';
import { Dialog, Field } from './dialog.js';

export interface NewTokenProps {
  title: string;
  token: string;
  id: string;
  description: string;
  expiry: string;
  width: number;
  height: number;
  onClose(): void;
  /** More to say about the key, below its fields. */
  children?: ReactNode;
}

export function NewToken({ title, token, id, description, expiry, width, height, onClose, children }: NewTokenProps) {
  const { copy } = useAppActions();
  const theme = useTheme();
  const [copied, setCopied] = useState(false);
  useKeypress({ layer: Layer.dialog, modal: true, commands: ['copyToken', 'close'] }, (_k, command) => {
    if (command === 'copyToken') {
      copy(token, 'Token', true);
      setCopied(true);
    } else if (command === 'close') onClose();
    return true;
  });
  return (
    <Dialog title={title} width={width} height={height}>
      <Text color={theme.warning} wrap="wrap">
        Copy it now: this is the only time it is shown. Keyward keeps only a hash of it.
      </Text>
      <Box marginY={1}>
        <Text bold wrap="wrap">
          {token}
        </Text>
      </Box>
      <Field label="key" value={safeText(`${description}  ${id}`)} />
      <Field label="expires" value={dateTime(expiry)} />
      {children}
      <Text> </Text>
      <Text bold>c  copy the token      esc  close{copied ? '      (copied)' : ''}</Text>
    </Dialog>
  );
}
