// The frame around every screen: who and where at the top, the screens one
// can open, and at the bottom the last message and the keys that work here.

import type { WhoAmI } from '@keyward/core';
import { Box, Text } from 'ink';
import { safeText } from '@keyward/core';
import type { Notice, ScreenId } from '../app-context.js';
import { BINDINGS, type Command, LIST_COMMANDS } from '../keys/bindings.js';
import { widthOf } from '../text/fit.js';
import { useTheme } from '../theme.js';

export const SCREEN_TITLES: Record<ScreenId, { key: string; title: string }> = {
  keys: { key: '1', title: 'Keys' },
  events: { key: '2', title: 'Events' },
  settings: { key: '3', title: 'Settings' },
  users: { key: '4', title: 'Users' },
  mykeys: { key: '5', title: 'My keys' },
};

export function Header({ me, location, width }: { me: WhoAmI; location: string; width: number }) {
  const theme = useTheme();
  const roles = me.user.roles.length ? me.user.roles.join(', ') : 'no roles';
  const licence = me.user.licence ? '' : ', no licence';
  return (
    <Box width={width}>
      <Text wrap="truncate">
        <Text bold color={theme.accent}>
          Keyward
        </Text>
        {'  '}
        <Text bold>{safeText(me.user.name)}</Text>
        <Text color={theme.muted}>
          {' '}
          ({roles}
          {licence})
        </Text>
        {'  tenant '}
        <Text bold>{safeText(me.tenant.name)}</Text>
        <Text color={theme.muted}>{'  ' + safeText(location)}</Text>
      </Text>
    </Box>
  );
}

export function Tabs({ screens, current, width }: { screens: ScreenId[]; current: ScreenId; width: number }) {
  const theme = useTheme();
  return (
    <Box width={width}>
      <Text wrap="truncate">
        {screens.map((s) => {
          const t = SCREEN_TITLES[s];
          const here = s === current;
          return (
            <Text key={s}>
              <Text inverse={here} bold={here} color={here ? undefined : theme.muted}>
                {` ${t.key} ${t.title} `}
              </Text>
              {' '}
            </Text>
          );
        })}
      </Text>
    </Box>
  );
}

const MARK = { error: '✕ ', success: '✓ ', info: '· ' };

/** Rows the status line needs: a refusal is never cut short of its code, so it may take two. */
export function statusRows(notice: Notice | null, width: number): number {
  if (!notice) return 1;
  return Math.min(2, Math.max(1, Math.ceil(widthOf(MARK[notice.kind] + safeText(notice.text)) / width)));
}

export function StatusLine({ notice, width }: { notice: Notice | null; width: number }) {
  const theme = useTheme();
  const rows = statusRows(notice, width);
  if (!notice) return <Box width={width} height={1} />;
  const color = notice.kind === 'error' ? theme.danger : notice.kind === 'success' ? theme.success : theme.accent;
  return (
    <Box width={width} height={rows} overflow="hidden">
      <Text color={color} wrap="wrap">
        {MARK[notice.kind] + safeText(notice.text)}
      </Text>
    </Box>
  );
}

/** As many of the working keys as fit: actions first, then moving, then help and quit. */
export function Footer({ commands, width }: { commands: Command[]; width: number }) {
  const theme = useTheme();
  const part = (c: Command) => `${BINDINGS[c].shown} ${BINDINGS[c].label}`;
  const moves = commands.some((c) => LIST_COMMANDS.includes(c)) ? ['j/k move'] : [];
  const actions = commands.filter((c) => c !== 'help' && c !== 'quit' && !c.startsWith('go') && !LIST_COMMANDS.includes(c)).map(part);
  const tail = commands.filter((c) => c === 'help' || c === 'quit').map(part);
  const tailText = [...moves, ...tail].join('  ');
  const room = width - widthOf(tailText) - 2;
  const shown: string[] = [];
  let used = 0;
  for (const p of actions) {
    if (used + widthOf(p) + 2 > room) break;
    shown.push(p);
    used += widthOf(p) + 2;
  }
  return (
    <Box width={width} height={1}>
      <Text color={theme.muted} wrap="truncate">
        {[...shown, tailText].filter(Boolean).join('  ')}
      </Text>
    </Box>
  );
}
