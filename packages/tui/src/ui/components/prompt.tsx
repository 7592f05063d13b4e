// A dialog that asks for one line of text, checks it as it is typed, and
// hands it over on enter. While it is open every key edits the field.

import { refusalText, safeText } from '@keyward/core';
import { Box, Text } from 'ink';
import { type ReactNode, useState } from 'react';
import { Layer, useKeypress } from '../keys/keypress-layer.js';
import { type TextField, editText, textField } from '../state/text-field.js';
import { useTheme } from '../theme.js';
import { Dialog } from './dialog.js';
import { TextInput } from './text-input.js';

export interface PromptProps {
  title: string;
  children?: ReactNode;
  label: string;
  initial?: string;
  placeholder?: string;
  maxLength?: number;
  width: number;
  height: number;
  /** A message saying what is wrong with the text, or null when it may be submitted. */
  check?(value: string): string | null;
  /** Resolves when done; a rejection is shown in the dialog and the field stays. */
  onSubmit(value: string): Promise<void>;
  onCancel(): void;
  tone?: 'danger';
}

export function Prompt({ title, children, label, initial = '', placeholder, maxLength = 256, width, height, check, onSubmit, onCancel, tone }: PromptProps) {
  const theme = useTheme();
  const [field, setField] = useState<TextField>(() => textField(initial));
  const [refusal, setRefusal] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const problem = check?.(field.value) ?? null;

  useKeypress({ layer: Layer.dialog, modal: true, commands: ['submit', 'back'] }, (k, command) => {
    if (busy) return true;
    if (command === 'back') onCancel();
    else if (command === 'submit') {
      if (problem) return true;
      setBusy(true);
      onSubmit(field.value).then(
        () => setBusy(false),
        (e: unknown) => {
          setBusy(false);
          setRefusal(refusalText(e));
        },
      );
    } else {
      const next = editText(field, k, maxLength);
      if (next) {
        setField(next);
        setRefusal(null);
      }
    }
    return true;
  });

  const inner = Math.min(width, 76) - 4;
  return (
    <Dialog title={title} width={width} height={height} tone={tone}>
      {children}
      <Box marginTop={children ? 1 : 0}>
        <Text bold>{label} </Text>
        <TextInput field={field} width={Math.max(8, inner - label.length - 1)} placeholder={placeholder} />
      </Box>
      <Text color={problem || refusal ? theme.danger : theme.muted} wrap="wrap">
        {busy ? 'Working…' : safeText(refusal ?? problem ?? 'enter  ok      esc  cancel')}
      </Text>
    </Dialog>
  );
}
