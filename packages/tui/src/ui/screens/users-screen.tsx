// Users (admins): everyone in the tenant with licence and roles. Add a user;
// give or take a licence, the Developer role (also to oneself) and the
// TenantAdmin role; remove a user (their active keys revoked first). Taking
// one's own admin role and removing a user ask first.

import { checkUserName, type KeyView, refusalText, safeText, type UserPatch, type UserView } from '@keyward/core';
import { Box, Text } from 'ink';
import { useEffect, useState } from 'react';
import { useAppActions, useAppState } from '../app-context.js';
import { Confirm } from '../components/confirm.js';
import { Prompt } from '../components/prompt.js';
import { type Column, Table } from '../components/table.js';
import { useRetainedReducer } from '../hooks/use-retained.js';
import { type Command, LIST_COMMANDS } from '../keys/bindings.js';
import { Layer, useKeypress } from '../keys/keypress-layer.js';
import { initialList, listActionFor, listReducer } from '../state/list.js';
import { plural } from '../text/format.js';
import { useTheme } from '../theme.js';
import type { ScreenProps } from './keys-screen.js';

type Open = { kind: 'add' } | { kind: 'dropOwnAdmin' } | { kind: 'remove'; user: UserView; active: KeyView[]; total: number } | null;

const COMMANDS: readonly Command[] = ['addUser', 'toggleLicence', 'toggleDeveloper', 'toggleAdmin', 'removeUser', ...LIST_COMMANDS];

const has = (u: UserView, role: 'Developer' | 'TenantAdmin') => u.roles.includes(role);

export function UsersScreen({ width, height }: ScreenProps) {
  const { me, tick } = useAppState();
  const { service, notify, fail, refresh } = useAppActions();
  const theme = useTheme();
  const [users, setUsers] = useState<UserView[] | null>(null);
  const [open, setOpen] = useState<Open>(null);
  const [list, dispatch] = useRetainedReducer('users.list', listReducer, initialList(height - 2));

  useEffect(() => dispatch({ type: 'height', height: Math.max(1, height - 2) }), [height, dispatch]);
  useEffect(() => {
    let live = true;
    service.listUsers().then((u) => {
      if (!live) return;
      setUsers(u);
      dispatch({ type: 'total', total: u.length });
    }, fail);
    return () => {
      live = false;
    };
  }, [service, tick, fail, dispatch]);

  const here = users?.[list.cursor];
  const change = (u: UserView, patch: UserPatch, said: string) =>
    service.updateUser(u.name, patch).then(() => {
      notify({ kind: 'success', text: `${u.name}: ${said}.` });
      refresh();
    }, fail);

  useKeypress({ layer: Layer.screen, commands: COMMANDS, active: open === null }, (_k, command) => {
    const move = listActionFor(command);
    if (move) {
      dispatch(move);
      return true;
    }
    switch (command) {
      case 'addUser':
        setOpen({ kind: 'add' });
        return true;
    }
    if (!here) return false;
    switch (command) {
      case 'toggleLicence':
        void change(here, { licence: !here.licence }, here.licence ? 'licence taken' : 'licence given');
        return true;
      case 'toggleDeveloper':
        void change(here, { developer: !has(here, 'Developer') }, has(here, 'Developer') ? 'Developer role taken' : 'Developer role given');
        return true;
      case 'toggleAdmin':
        // Confirm only a change core would make (its view says whether the role may be taken); otherwise core's refusal is shown.
        if (here.name === me.user.name && here.actions.demote) setOpen({ kind: 'dropOwnAdmin' });
        else void change(here, { admin: !has(here, 'TenantAdmin') }, has(here, 'TenantAdmin') ? 'TenantAdmin role taken' : 'TenantAdmin role given');
        return true;
      case 'removeUser':
        // What happens to their keys is said before anything is done.
        service.listKeys({ sub: here.name, status: 'active', limit: 5 }).then((p) => setOpen({ kind: 'remove', user: here, active: p.data, total: p.total }), fail);
        return true;
    }
    return false;
  });

  const close = () => setOpen(null);
  if (open?.kind === 'add') {
    return (
      <Prompt
        title="Add a user"
        label="User name"
        maxLength={64}
        width={width}
        height={height}
        check={(v) => {
          const r = checkUserName(v);
          return v && r ? refusalText(r) : null;
        }}
        onSubmit={(name) =>
          service.addUser(name).then((u) => {
            notify({ kind: 'success', text: `Added ${u.name}, without a licence or roles yet: l gives a licence, d the Developer role.` });
            close();
            refresh();
          })
        }
        onCancel={close}
      />
    );
  }
  if (open?.kind === 'dropOwnAdmin') {
    return (
      <Confirm
        title="Take your own TenantAdmin role?"
        width={width}
        height={height}
        tone="danger"
        onConfirm={() => {
          close();
          void change(me.user, { admin: false }, 'TenantAdmin role taken');
        }}
        onCancel={close}
      >
        <Text wrap="wrap">You will no longer see Keys, Events, Settings and Users; only another admin can give the role back.</Text>
      </Confirm>
    );
  }

  if (open?.kind === 'remove') {
    const { user, active, total } = open;
    return (
      <Confirm
        title={`Remove ${safeText(user.name)}?`}
        width={width}
        height={height}
        tone="danger"
        onConfirm={() =>
          void service.removeUser(user.name).then(
            (r) => {
              notify({ kind: 'success', text: `Removed ${r.user.name}; ${plural(r.revoked.length, 'active key')} revoked.` });
              close();
              refresh();
            },
            (e: unknown) => {
              fail(e);
              close();
            },
          )
        }
        onCancel={close}
      >
        <Text wrap="wrap">{total === 0 ? 'They have no active keys.' : `Their ${plural(total, 'active key')} will be revoked first, at once and for good:`}</Text>
        {active.map((k) => (
          <Text key={k.id} wrap="truncate">{`  ${k.id.slice(0, 8)}  "${safeText(k.description)}"`}</Text>
        ))}
        {total > active.length ? <Text>{`  … and ${total - active.length} more`}</Text> : null}
        <Text wrap="wrap">Their expired and revoked keys stay in the lists and events.</Text>
      </Confirm>
    );
  }

  const columns: Column<UserView>[] = [
    { title: 'USER', width: 16, grow: true, cell: (u) => u.name + (u.name === me.user.name ? ' (you)' : '') },
    { title: 'LICENCE', width: 8, cell: (u) => (u.licence ? '✓ yes' : '– no'), color: (u) => (u.licence ? theme.success : theme.warning) },
    { title: 'DEVELOPER', width: 10, cell: (u) => (has(u, 'Developer') ? '✓ yes' : '– no') },
    { title: 'ADMIN', width: 8, cell: (u) => (has(u, 'TenantAdmin') ? '✓ yes' : '– no') },
  ];
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text wrap="truncate">
        <Text bold>Users</Text>
        <Text color={theme.muted}>{`  ${users ? plural(users.length, 'user') : 'loading…'} of tenant ${safeText(me.tenant.name)}`}</Text>
      </Text>
      <Table
        columns={columns}
        rows={users ? users.slice(list.top, list.top + list.height) : []}
        cursor={list.cursor - list.top}
        focused
        width={width}
        height={height - 1}
        empty={users ? 'No users.' : 'Loading…'}
      />
    </Box>
  );
}
