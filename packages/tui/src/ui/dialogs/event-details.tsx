// `enter` on an event: all of it, details included. `c` copies its key id,
// `o` opens that key in Keys.

import type { EventView } from '@keyward/core';
import { Text } from 'ink';
import { safeText } from '@keyward/core';
import { useAppActions } from '../app-context.js';
import { Dialog, Field } from '../components/dialog.js';
import type { Command } from '../keys/bindings.js';
import { Layer, useKeypress } from '../keys/keypress-layer.js';
import { detailLines } from '../text/events.js';
import { dateTime } from '../text/format.js';

export function EventDetails({ event: e, width, height, onClose }: { event: EventView; width: number; height: number; onClose(): void }) {
  const { copy, navigate } = useAppActions();
  const commands: Command[] = e.keyId ? ['copy', 'openKey', 'close'] : ['close'];
  useKeypress({ layer: Layer.dialog, modal: true, commands }, (_k, command) => {
    if (command === 'copy' && e.keyId) copy(e.keyId, 'Key id');
    else if (command === 'openKey' && e.keyId) navigate('keys', { search: e.keyId });
    else if (command === 'close') onClose();
    return true;
  });
  const details = detailLines(e.data);
  const room = Math.max(1, height - 9);
  return (
    <Dialog title={`Event ${safeText(e.eventType)}`} width={width} height={height}>
      <Field label="time" value={dateTime(e.eventTime)} />
      <Field label="by" value={safeText(e.userId)} />
      <Field label="key" value={e.keyId ? safeText(e.keyId) : '—'} />
      <Field label="event id" value={safeText(e.id)} />
      {details.slice(0, room).map((line, i) => (
        <Text key={i} wrap="truncate">
          {'  ' + safeText(line)}
        </Text>
      ))}
      {details.length > room ? <Text>{`  … ${details.length - room} more`}</Text> : null}
      <Text bold>{e.keyId ? 'c  copy key id      o  open the key      esc  close' : 'esc  close'}</Text>
    </Dialog>
  );
}
