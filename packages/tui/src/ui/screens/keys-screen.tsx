// Keys (admins): every key of the tenant. Search, filter, select, revoke
// after a confirmation, open the details, copy an id.

import type { KeyView } from '@keyward/core';
import { useEffect, useState } from 'react';
import { type Intent, useAppActions } from '../app-context.js';
import { KeyTable } from '../components/key-table.js';
import { KeyDetails } from '../dialogs/key-details.js';
import { RevokeDialog } from '../dialogs/revoke-dialog.js';
import { BROWSE_COMMANDS, useKeyBrowser } from '../hooks/use-key-browser.js';
import { useRetainedState } from '../hooks/use-retained.js';
import { useDayUses } from '../hooks/use-usage.js';
import type { Command } from '../keys/bindings.js';
import { Layer, useKeypress } from '../keys/keypress-layer.js';
import { plural } from '../text/format.js';

type Open = { kind: 'details'; key: KeyView } | { kind: 'revoke'; ids: string[] } | null;

const COMMANDS: readonly Command[] = ['revoke', 'select', 'selectAll', 'open', 'copy', ...BROWSE_COMMANDS, 'back'];

export interface ScreenProps {
  width: number;
  height: number;
  intent?: Intent;
  onIntentDone?(): void;
}

export function KeysScreen({ width, height, intent, onIntentDone }: ScreenProps) {
  const { copy, notify } = useAppActions();
  const [open, setOpen] = useState<Open>(null);
  const [selected, setSelected] = useRetainedState<ReadonlyMap<string, KeyView>>('keys.selected', new Map());
  const b = useKeyBrowser('keys', { height: Math.max(1, height - 2), active: open === null });
  const uses = useDayUses();

  useEffect(() => {
    if (!intent?.search) return;
    b.showOnly(intent.search);
    onIntentDone?.();
  }, [intent, b.showOnly, onIntentDone]);

  const toggle = (keys: KeyView[], on: boolean) => {
    const next = new Map(selected);
    for (const k of keys) on ? next.set(k.id, k) : next.delete(k.id);
    setSelected(next);
  };

  useKeypress({ layer: Layer.screen, commands: COMMANDS, active: open === null }, (_k, command) => {
    const here = b.current;
    switch (command) {
      case 'select':
        if (here) toggle([here], !selected.has(here.id));
        if (here) b.handle('down');
        return true;
      case 'selectAll': {
        const visible = b.rows.filter((r): r is KeyView => r !== undefined);
        toggle(visible, !visible.every((r) => selected.has(r.id)));
        return true;
      }
      case 'revoke': {
        const ids = selected.size > 0 ? [...selected.keys()] : here ? [here.id] : [];
        if (ids.length === 0) notify({ kind: 'info', text: 'There is no key here to revoke.' });
        else setOpen({ kind: 'revoke', ids });
        return true;
      }
      case 'open':
        if (here) setOpen({ kind: 'details', key: here });
        return true;
      case 'copy':
        if (here) copy(here.id, 'Key id');
        return true;
      case 'back':
        if (b.handle(command)) return true;
        if (selected.size > 0) {
          setSelected(new Map());
          return true;
        }
        return false;
    }
    return b.handle(command);
  });

  const close = () => setOpen(null);
  if (open?.kind === 'details') return <KeyDetails keyView={open.key} width={width} height={height} onClose={close} />;
  if (open?.kind === 'revoke') return <RevokeDialog ids={open.ids} width={width} height={height} onClose={close} onRevoked={() => setSelected(new Map())} />;

  return (
    <KeyTable
      title="Keys"
      browser={b}
      width={width}
      height={height}
      owner
      uses={uses}
      extra={selected.size > 0 ? `${plural(selected.size, 'selected key')} (esc clears)` : undefined}
      isSelected={(k) => selected.has(k.id)}
      noKeys="No keys yet."
    />
  );
}
