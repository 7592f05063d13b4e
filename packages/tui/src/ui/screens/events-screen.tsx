// Events (admins): newest first, filtered by type (`t`) and by key or user
// (`/`); `enter` shows one in full, `c` copies its key id, `o` opens its key
// in Keys. Below, usage per key; `tab` moves there, where `r` revokes.

import { EVENT_TYPES, type EventView, safeText } from '@keyward/core';
import { Box, Text } from 'ink';
import { useEffect, useState } from 'react';
import { useAppActions } from '../app-context.js';
import { Prompt } from '../components/prompt.js';
import { type Column, Table } from '../components/table.js';
import { UsagePanel } from '../components/usage-panel.js';
import { EventDetails } from '../dialogs/event-details.js';
import { RevokeDialog } from '../dialogs/revoke-dialog.js';
import { type EventFilter, useEventFeed } from '../hooks/use-event-feed.js';
import { useRetainedReducer, useRetainedState } from '../hooks/use-retained.js';
import { useUsage } from '../hooks/use-usage.js';
import { type Command, LIST_COMMANDS } from '../keys/bindings.js';
import { Layer, useKeypress } from '../keys/keypress-layer.js';
import { type ListAction, initialList, listActionFor, listReducer } from '../state/list.js';
import { eventSummary, shortType } from '../text/events.js';
import { dateTime, plural, shortId } from '../text/format.js';
import { useTheme } from '../theme.js';
import type { ScreenProps } from './keys-screen.js';

/** Events an admin should look at first: drawn in the danger colour. */
const ALARMING = new Set<string>(['api-key.excessive-use', 'api-key.auth-failed', 'api-key.revoked', 'api-key.leaked', 'api-key.reused-after-rotation']);

type Open = { kind: 'details'; event: EventView } | { kind: 'filter' } | { kind: 'revoke'; id: string } | null;

const EVENT_COMMANDS: readonly Command[] = ['open', 'openKey', 'copy', 'cycleType', 'toggleUsage', 'filterEvents', 'switchPanel', ...LIST_COMMANDS, 'back'];
const USAGE_COMMANDS: readonly Command[] = ['revoke', 'openKey', 'copy', 'switchPanel', ...LIST_COMMANDS, 'back'];

function listKeys(command: Command | undefined, dispatch: (a: ListAction) => void): boolean {
  const action = listActionFor(command);
  if (action) dispatch(action);
  return !!action;
}

export function EventsScreen({ width, height }: ScreenProps) {
  const { copy, navigate, notify, service } = useAppActions();
  const theme = useTheme();
  const [open, setOpen] = useState<Open>(null);
  const [focus, setFocus] = useRetainedState<'events' | 'usage'>('events.focus', 'events');
  const [filter, setFilter] = useRetainedState<EventFilter>('events.filter', {});

  const usageHeight = Math.max(4, Math.floor(height * 0.35));
  const eventsHeight = height - usageHeight;
  const [list, dispatch] = useRetainedReducer('events.list', listReducer, initialList(eventsHeight - 2));
  const [usageList, usageDispatch] = useRetainedReducer('events.usage', listReducer, initialList(usageHeight - 2));
  useEffect(() => dispatch({ type: 'height', height: Math.max(1, eventsHeight - 2) }), [eventsHeight, dispatch]);
  useEffect(() => usageDispatch({ type: 'height', height: Math.max(1, usageHeight - 2) }), [usageHeight, usageDispatch]);

  const feed = useEventFeed(filter, list, dispatch);
  const usage = useUsage();
  useEffect(() => usageDispatch({ type: 'total', total: usage?.length ?? 0 }), [usage, usageDispatch]);
  const usageHere = usage?.[usageList.cursor];

  const cycleType = () => {
    const i = filter.type ? EVENT_TYPES.indexOf(filter.type) : -1;
    setFilter({ ...filter, type: i + 1 < EVENT_TYPES.length ? EVENT_TYPES[i + 1] : undefined });
    dispatch({ type: 'reset' });
  };

  useKeypress({ layer: Layer.screen, commands: EVENT_COMMANDS, active: open === null && focus === 'events' }, (_k, command) => {
    const e = feed.current;
    switch (command) {
      case 'open':
        if (e) setOpen({ kind: 'details', event: e });
        return true;
      case 'copy':
        if (e?.keyId) copy(e.keyId, 'Key id');
        else if (e) notify({ kind: 'info', text: 'This event is not about a key.' });
        return true;
      case 'openKey':
        if (e?.keyId) navigate('keys', { search: e.keyId });
        else if (e) notify({ kind: 'info', text: 'This event is not about a key.' });
        return true;
      case 'cycleType':
        cycleType();
        return true;
      case 'toggleUsage':
        setFilter({ ...filter, showUsage: !filter.showUsage });
        dispatch({ type: 'reset' });
        return true;
      case 'filterEvents':
        setOpen({ kind: 'filter' });
        return true;
      case 'switchPanel':
        setFocus('usage');
        return true;
      case 'back':
        if (filter.keyId || filter.userId || filter.type) {
          setFilter({ showUsage: filter.showUsage });
          dispatch({ type: 'reset' });
          return true;
        }
        return false;
    }
    return listKeys(command, dispatch);
  });

  useKeypress({ layer: Layer.screen, commands: USAGE_COMMANDS, active: open === null && focus === 'usage' }, (_k, command) => {
    switch (command) {
      case 'revoke':
        if (!usageHere) return true;
        // Core's answer for this key (its actions); the status says why not.
        if (usageHere.actions.revoke) setOpen({ kind: 'revoke', id: usageHere.keyId });
        else notify({ kind: 'info', text: `That key ${usageHere.status === 'deleted' ? 'was deleted' : `is ${usageHere.status}`}; there is nothing to revoke.` });
        return true;
      case 'openKey':
        if (usageHere) navigate('keys', { search: usageHere.keyId });
        return true;
      case 'copy':
        if (usageHere) copy(usageHere.keyId, 'Key id');
        return true;
      case 'switchPanel':
      case 'back':
        setFocus('events');
        return true;
    }
    return listKeys(command, usageDispatch);
  });

  const close = () => setOpen(null);
  if (open?.kind === 'details') return <EventDetails event={open.event} width={width} height={height} onClose={close} />;
  if (open?.kind === 'revoke') return <RevokeDialog ids={[open.id]} width={width} height={height} onClose={close} onRevoked={() => undefined} />;
  if (open?.kind === 'filter') {
    return (
      <Prompt
        title="Filter events by key or user"
        label="Key id or user"
        initial={filter.keyId ?? filter.userId ?? ''}
        maxLength={64}
        width={width}
        height={height}
        onSubmit={async (v) => {
          const text = v.trim();
          // A key id, or the short id the lists show (6 or more of its first characters).
          const keyId = /^[0-9a-fA-F]{6,24}$/.test(text) ? await service.resolveKeyId(text) : undefined;
          setFilter({ type: filter.type, showUsage: filter.showUsage, ...(text === '' ? {} : keyId ? { keyId } : { userId: text }) });
          dispatch({ type: 'reset' });
          close();
        }}
        onCancel={close}
      >
        <Text wrap="wrap">A key id, whole or its first 6 or more characters (as the lists show it), shows that key's events; anything else is taken as a user name. Empty clears.</Text>
      </Prompt>
    );
  }

  const wide = width >= 100;
  const columns: Column<EventView>[] = [
    { title: 'TIME', width: wide ? 19 : 14, cell: (e) => (wide ? dateTime(e.eventTime) : dateTime(e.eventTime).slice(5)) },
    { title: 'EVENT', width: 14, cell: (e) => shortType(e.eventType), color: (e) => (ALARMING.has(e.eventType) ? theme.danger : undefined) },
    { title: 'BY', width: 10, cell: (e) => e.userId },
    { title: 'KEY', width: 8, cell: (e) => shortId(e.keyId) },
    { title: 'WHAT', width: 10, grow: true, cell: (e) => eventSummary(e) },
  ];

  const filters = [filter.type ? `type ${filter.type}` : filter.showUsage ? 'all types, usage shown (u hides)' : 'usage hidden (u shows)'];
  if (filter.keyId) filters.push(`key ${filter.keyId}`);
  if (filter.userId) filters.push(`user ${safeText(filter.userId)}`);
  const position = feed.loaded ? (feed.total === 0 ? 'no events' : `${(list.cursor + 1).toLocaleString('en-US')}/${plural(feed.total, 'event')}`) : 'loading…';
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text wrap="truncate">
        <Text bold color={focus === 'events' ? theme.accent : undefined}>
          Events
        </Text>
        <Text color={theme.muted}>{`  ${position} · ${filters.join(' · ')}${filters.length > 1 || filter.type ? ' (esc clears)' : ''}`}</Text>
      </Text>
      <Table
        columns={columns}
        rows={feed.rows}
        cursor={list.cursor - list.top}
        focused={focus === 'events'}
        width={width}
        height={eventsHeight - 1}
        empty={feed.loaded ? 'No events match.' : 'Loading…'}
      />
      <UsagePanel
        rows={usage ? usage.slice(usageList.top, usageList.top + usageList.height) : null}
        cursor={usageList.cursor - usageList.top}
        focused={focus === 'usage'}
        width={width}
        height={usageHeight}
      />
    </Box>
  );
}
