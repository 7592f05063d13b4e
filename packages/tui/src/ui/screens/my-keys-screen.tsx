// My keys (everyone): the keys one owns, with status and expiry; keys that
// expire within 7 days stand out. Generate, rename, rotate, delete one or all. When
// generating is not possible right now, the screen says why before one tries.

import { checkDescription, EXPIRING_SOON_DAYS, expiresSoon, type KeyView, refusalText, safeText } from '@keyward/core';
import { Box, Text } from 'ink';
import { useState } from 'react';
import { useAppActions, useAppState } from '../app-context.js';
import { Confirm } from '../components/confirm.js';
import { KeyTable } from '../components/key-table.js';
import { Prompt } from '../components/prompt.js';
import { type Blocker, blockerOf } from '../dialogs/generate-blockers.js';
import { GenerateDialog } from '../dialogs/generate-dialog.js';
import { KeyDetails } from '../dialogs/key-details.js';
import { RotateDialog } from '../dialogs/rotate-dialog.js';
import { BROWSE_COMMANDS, useKeyBrowser } from '../hooks/use-key-browser.js';
import type { Command } from '../keys/bindings.js';
import { Layer, useKeypress } from '../keys/keypress-layer.js';
import { widthOf } from '../text/fit.js';
import { plural } from '../text/format.js';
import { useTheme } from '../theme.js';
import type { ScreenProps } from './keys-screen.js';

type Open =
  | { kind: 'generate' }
  | { kind: 'blocked'; blocker: Blocker }
  | { kind: 'details'; key: KeyView }
  | { kind: 'rename'; key: KeyView }
  | { kind: 'rotate'; key: KeyView }
  | { kind: 'delete'; key: KeyView }
  | { kind: 'deleteAll'; count: number }
  | null;

const COMMANDS: readonly Command[] = ['generate', 'rename', 'rotate', 'delete', 'deleteAll', 'copy', 'open', ...BROWSE_COMMANDS, 'back'];

export function MyKeysScreen({ width, height }: ScreenProps) {
  const { me, now } = useAppState();
  const { service, copy, notify, fail, refresh, reloadIfUnknown } = useAppActions();
  const theme = useTheme();
  const [open, setOpen] = useState<Open>(null);
  const blocked = blockerOf(me);
  const banner = blocked ? `You cannot generate keys now: ${blocked.message} (${blocked.code}) — press n to see what fixes it.` : '';
  const bannerLines = blocked ? Math.min(2, Math.ceil(widthOf(banner) / width)) : 0;
  const b = useKeyBrowser('mykeys', { sub: me.user.id, height: Math.max(1, height - 2 - bannerLines), active: open === null });
  const soon = b.rows.filter((k) => k && expiresSoon(k, now)).length;

  useKeypress({ layer: Layer.screen, commands: COMMANDS, active: open === null }, (_k, command) => {
    const here = b.current;
    switch (command) {
      case 'generate':
        if (!blocked) setOpen({ kind: 'generate' });
        // What is in the way may have just been fixed (on Users or Settings, or elsewhere): ask afresh.
        else
          service.whoami().then((fresh) => {
            const now = blockerOf(fresh);
            setOpen(now ? { kind: 'blocked', blocker: now } : { kind: 'generate' });
          }, fail);
        return true;
      case 'open':
        if (here) setOpen({ kind: 'details', key: here });
        return true;
      case 'rename':
        if (here) setOpen({ kind: 'rename', key: here });
        return true;
      case 'rotate':
        if (here) setOpen({ kind: 'rotate', key: here });
        return true;
      case 'delete':
        if (here) setOpen({ kind: 'delete', key: here });
        return true;
      case 'deleteAll':
        service.listKeys({ sub: me.user.id, limit: 1 }).then(
          (p) => (p.total === 0 ? notify({ kind: 'info', text: 'You have no keys to delete.' }) : setOpen({ kind: 'deleteAll', count: p.total })),
          fail,
        );
        return true;
      case 'copy':
        if (here) copy(here.id, 'Key id');
        return true;
    }
    return b.handle(command);
  });

  const close = () => setOpen(null);
  const done = (text: string) => {
    notify({ kind: 'success', text });
    close();
    refresh();
  };
  // A refusal a prompt shows itself (with its code), the list read again if the change may have been made.
  const shownInPrompt = (e: unknown): never => {
    reloadIfUnknown(e);
    throw e;
  };

  // Fixes one blocker, then asks again: the next one, or on to generating.
  const fixAndGoOn = (blocker: Blocker) =>
    blocker
      .fix!.run(service)
      .then(() => service.whoami())
      .then((fresh) => {
        const next = blockerOf(fresh);
        notify({ kind: 'success', text: `Done: ${blocker.fix!.offer.replace(/^press y to /, '')}.` });
        refresh();
        setOpen(next ? { kind: 'blocked', blocker: next } : { kind: 'generate' });
      })
      .catch((e: unknown) => {
        fail(e);
        close();
      });

  switch (open?.kind) {
    case 'blocked': {
      const blocker = open.blocker;
      return (
        <Confirm
          key={blocker.code}
          title="You cannot generate a key yet"
          width={width}
          height={height}
          canConfirm={blocker.fix !== undefined}
          onConfirm={() => void fixAndGoOn(blocker)}
          onCancel={close}
        >
          <Text wrap="wrap">{`${safeText(blocker.message)} (${blocker.code})`}</Text>
          <Text wrap="wrap">{blocker.advice}</Text>
          {blocker.fix ? (
            <Text bold wrap="wrap">
              {`Now: ${blocker.fix.offer}, or n to leave it.`}
            </Text>
          ) : null}
        </Confirm>
      );
    }
    case 'generate':
      return <GenerateDialog width={width} height={height} onClose={close} />;
    case 'details':
      return <KeyDetails keyView={open.key} width={width} height={height} onClose={close} />;
    case 'rename': {
      const key = open.key;
      return (
        <Prompt
          title={`Rename "${safeText(key.description)}"`}
          label="Description"
          initial={safeText(key.description)}
          width={width}
          height={height}
          check={(v) => {
            const r = checkDescription(v);
            return r ? refusalText(r) : null;
          }}
          onSubmit={(v) => service.renameKey(key.id, v).then((k) => done(`Renamed to "${k.description}".`), shownInPrompt)}
          onCancel={close}
        />
      );
    }
    case 'rotate':
      return <RotateDialog keyView={open.key} width={width} height={height} onClose={close} />;
    case 'delete': {
      const key = open.key;
      const remove = () => service.deleteKey(key.id).then(() => done(`Deleted "${key.description}".`), (e: unknown) => (fail(e), close()));
      return (
        <Confirm title="Delete this key?" width={width} height={height} tone="danger" onConfirm={() => void remove()} onCancel={close}>
          <Text wrap="truncate">{`"${safeText(key.description)}"  ${key.id}`}</Text>
          <Text wrap="wrap">It stops working at once and cannot be restored.</Text>
        </Confirm>
      );
    }
    case 'deleteAll': {
      const count = open.count;
      return (
        <Prompt
          title={`Delete all ${plural(count, 'key')} of yours?`}
          label="Type DELETE"
          placeholder="to confirm"
          tone="danger"
          width={width}
          height={height}
          check={(v) => (v === 'DELETE' ? null : 'Type DELETE in capitals to delete every key you own, or esc to cancel.')}
          onSubmit={() => service.deleteAllKeys().then((r) => done(`Deleted ${plural(r.deleted, 'key')}.`), shownInPrompt)}
          onCancel={close}
        >
          <Text wrap="wrap">Every key you own stops working at once. This cannot be undone.</Text>
        </Prompt>
      );
    }
  }

  return (
    <Box flexDirection="column" width={width} height={height}>
      {blocked ? (
        <Box height={bannerLines} width={width} overflow="hidden">
          <Text color={theme.warning} wrap="wrap">
            {safeText(banner)}
          </Text>
        </Box>
      ) : null}
      <KeyTable
        title="My keys"
        browser={b}
        width={width}
        height={height - bannerLines}
        owner={false}
        extra={soon > 0 ? `⚠ ${soon} expiring within ${EXPIRING_SOON_DAYS} days` : undefined}
        noKeys={blocked ? 'You have no keys.' : 'You have no keys yet: press n to generate one.'}
      />
    </Box>
  );
}
