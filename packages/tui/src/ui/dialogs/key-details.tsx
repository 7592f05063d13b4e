// `enter` on a key: every field of it, with the full id to copy.

import { type KeyView, relativeTime } from '@keyward/core';
import { Text } from 'ink';
import { safeText } from '../../text/safe.js';
import { useAppActions, useAppState } from '../app-context.js';
import { Dialog, Field } from '../components/dialog.js';
import { Layer, useKeypress } from '../keys/keypress-layer.js';
import { STATUS_LABEL, dateTime, expiresSoon } from '../text/format.js';
import { useTheme } from '../theme.js';

export function KeyDetails({ keyView: k, width, height, onClose }: { keyView: KeyView; width: number; height: number; onClose(): void }) {
  const { copy } = useAppActions();
  const { now } = useAppState();
  const theme = useTheme();
  useKeypress({ layer: Layer.dialog, modal: true, commands: ['copy', 'close'] }, (_k, command) => {
    if (command === 'copy') copy(k.id, 'Key id');
    else if (command === 'close') onClose();
    return true;
  });
  const soon = expiresSoon(k.status, k.expiry, now);
  return (
    <Dialog title={`Key ${safeText(k.description)}`} width={width} height={height}>
      <Field label="id" value={safeText(k.id)} />
      <Field label="description" value={safeText(k.description)} />
      <Field label="status" value={STATUS_LABEL[k.status]} color={theme.status[k.status]} />
      <Field label="owner" value={safeText(k.sub)} />
      <Field label="created by" value={safeText(k.createdByUser)} />
      <Field label="created" value={dateTime(k.created)} />
      <Field label="last updated" value={dateTime(k.lastUpdated)} />
      <Field label="expires" value={`${dateTime(k.expiry)} (${relativeTime(k.expiry, now)})${soon ? ' ⚠ within 7 days' : ''}`} color={soon ? theme.warning : undefined} />
      <Field label="last used" value={k.lastUsed ? `${dateTime(k.lastUsed)} (${relativeTime(k.lastUsed, now)})` : 'never'} />
      <Text> </Text>
      <Text bold>c  copy id      esc  close</Text>
    </Dialog>
  );
}
