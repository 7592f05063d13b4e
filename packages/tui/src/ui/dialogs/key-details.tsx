// `enter` on a key: every field of it, with the full id to copy. Where it was
// last used from (up to 5 addresses, newest first) and the keys it was
// rotated from or to come from the store, so they are shown inert too.

import { type KeyView, expiresSoon, relativeTime, sinceTime, safeText } from '@keyward/core';
import { Text } from 'ink';
import { useAppActions, useAppState } from '../app-context.js';
import { Dialog, Field } from '../components/dialog.js';
import { Layer, useKeypress } from '../keys/keypress-layer.js';
import { STATUS_LABEL, dateTime } from '../text/format.js';
import { useTheme } from '../theme.js';

// Wide enough for "last used from" and a space.
const LABEL = 16;

export function KeyDetails({ keyView: k, width, height, onClose }: { keyView: KeyView; width: number; height: number; onClose(): void }) {
  const { copy } = useAppActions();
  const { now } = useAppState();
  const theme = useTheme();
  useKeypress({ layer: Layer.dialog, modal: true, commands: ['copy', 'close'] }, (_k, command) => {
    if (command === 'copy') copy(k.id, 'Key id');
    else if (command === 'close') onClose();
    return true;
  });
  const soon = expiresSoon(k, now);
  return (
    <Dialog title={`Key ${safeText(k.description)}`} width={width} height={height}>
      <Field width={LABEL} label="id" value={safeText(k.id)} />
      <Field width={LABEL} label="description" value={safeText(k.description)} />
      <Field width={LABEL} label="status" value={STATUS_LABEL[k.status]} color={theme.status[k.status]} />
      <Field width={LABEL} label="owner" value={safeText(k.sub)} />
      <Field width={LABEL} label="created by" value={safeText(k.createdByUser)} />
      <Field width={LABEL} label="created" value={dateTime(k.created)} />
      <Field width={LABEL} label="last updated" value={dateTime(k.lastUpdated)} />
      <Field width={LABEL} label="expires" value={`${dateTime(k.expiry)} (${relativeTime(k.expiry, now)})${soon ? ' ⚠ within 7 days' : ''}`} color={soon ? theme.warning : undefined} />
      <Field width={LABEL} label="last used" value={k.lastUsed ? `${dateTime(k.lastUsed)} (${sinceTime(k.lastUsed, now)})` : 'never'} />
      {(k.lastUsedFrom ?? []).slice(0, 5).map((a, i) => (
        <Field key={`${i}:${a.address}`} width={LABEL} label={i === 0 ? 'last used from' : ''} value={`${safeText(a.address)}  ${sinceTime(a.lastSeen, now)}`} />
      ))}
      {k.rotatedFrom ? <Field width={LABEL} label="rotated from" value={safeText(k.rotatedFrom)} /> : null}
      {k.rotatedTo ? <Field width={LABEL} label="rotated to" value={safeText(k.rotatedTo)} /> : null}
      <Text> </Text>
      <Text bold>c  copy id      esc  close</Text>
    </Dialog>
  );
}
