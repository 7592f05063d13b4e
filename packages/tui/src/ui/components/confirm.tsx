// A yes/no question. `y` confirms; `n` or esc cancels; nothing else leaks
// through to the screen beneath while it is open.

import { Text } from 'ink';
import { type ReactNode, useState } from 'react';
import { Layer, useKeypress } from '../keys/keypress-layer.js';
import { Dialog } from './dialog.js';

export interface ConfirmProps {
  title: string;
  children: ReactNode;
  width: number;
  height: number;
  onConfirm(): void;
  onCancel(): void;
  /** When false, only cancel works (there is nothing to confirm). */
  canConfirm?: boolean;
  tone?: 'danger';
}

export function Confirm({ title, children, width, height, onConfirm, onCancel, canConfirm = true, tone }: ConfirmProps) {
  // Once confirmed, a second `y` must not run the action again.
  const [confirmed, setConfirmed] = useState(false);
  useKeypress({ layer: Layer.dialog, modal: true, commands: confirmed ? [] : canConfirm ? ['confirm', 'cancel'] : ['close'] }, (_k, command) => {
    if (command === 'confirm') {
      setConfirmed(true);
      onConfirm();
    } else if (command === 'cancel' || command === 'close') onCancel();
    return true;
  });
  return (
    <Dialog title={title} width={width} height={height} tone={tone}>
      {children}
      <Text> </Text>
      <Text bold>{confirmed ? 'Working…' : canConfirm ? 'y  yes      n  no' : 'esc  close'}</Text>
    </Dialog>
  );
}
