// The terminal UI: header, tabs, the current screen, the status line and
// the footer. It asks the service who the user is on start, on every poll
// and at once when the store says it changed, so roles, settings and "can I
// generate" follow changes made by other processes; screens refetch their
// data on the same tick.

import { type KeyService, type Permission, type ViewerActions, type WhoAmI, followStoreChanges, refusalCode, refusalText } from '@keyward/core';
import { Box, Text, useApp } from 'ink';
import { type ReactNode, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { type AppActions, type AppState, AppActionsProvider, AppStateProvider, type Intent, type Notice, type ScreenId } from './app-context.js';
import type { Clipboard } from './clipboard.js';
import { Footer, Header, SCREEN_TITLES, StatusLine, Tabs, statusRows } from './components/chrome.js';
import { Help } from './components/help.js';
import { RetainedProvider } from './hooks/use-retained.js';
import { useTerminalSize } from './hooks/use-terminal-size.js';
import type { Command } from './keys/bindings.js';
import { KeypressLayer, Layer, useActiveCommands, useKeypress } from './keys/keypress-layer.js';
import { EventsScreen } from './screens/events-screen.js';
import { KeysScreen } from './screens/keys-screen.js';
import { MyKeysScreen } from './screens/my-keys-screen.js';
import { SettingsScreen } from './screens/settings-screen.js';
import { UsersScreen } from './screens/users-screen.js';
import { type Theme, ThemeProvider } from './theme.js';

export interface AppProps {
  service: KeyService;
  location: string;
  /** Shown in the status line on start, e.g. that a new store was created. */
  greeting?: string;
  refreshMs: number;
  clipboard: Clipboard;
  theme: Theme;
}

const SCREENS: ScreenId[] = ['keys', 'events', 'settings', 'users', 'mykeys'];
/** What each screen asks the viewer may do (core's viewerActions); My keys asks nothing. */
const SCREEN_NEEDS: Record<ScreenId, keyof ViewerActions | null> = { keys: 'seeAllKeys', events: 'viewEvents', settings: 'changeSettings', users: 'manageUsers', mykeys: null };
const GO: Record<string, ScreenId> = { goKeys: 'keys', goEvents: 'events', goSettings: 'settings', goUsers: 'users', goMyKeys: 'mykeys' };

/** Core's refusal of what `screen` needs, when the viewer may not open it (such a screen has no tab). */
function screenRefused(me: WhoAmI, screen: ScreenId): Extract<Permission, { ok: false }> | undefined {
  const need = SCREEN_NEEDS[screen];
  const may = need === null ? undefined : me.may[need];
  return may && !may.ok ? may : undefined;
}

export const MIN_COLUMNS = 60;
export const MIN_ROWS = 12;

export function App({ theme, ...props }: AppProps) {
  return (
    <ThemeProvider value={theme}>
      <KeypressLayer>
        <Shell {...props} />
      </KeypressLayer>
    </ThemeProvider>
  );
}

function copyNotice(support: Clipboard['support'], what: string, text: string, shownOnScreen: boolean): Notice {
  const fallback = shownOnScreen ? 'select it on screen' : `select: ${text}`;
  if (support === 'likely') return { kind: 'success', text: `${what} copied${shownOnScreen ? '' : `: ${text}`}` };
  if (support === 'unlikely') return { kind: 'info', text: `This terminal may not copy (OSC 52); ${fallback}` };
  return { kind: 'info', text: `${what} copied via OSC 52 — if not, ${fallback}` };
}

function Shell({ service, location, greeting, refreshMs, clipboard }: Omit<AppProps, 'theme'>) {
  const { exit } = useApp();
  const { columns, rows } = useTerminalSize();
  const [me, setMe] = useState<WhoAmI | null>(null);
  const [startError, setStartError] = useState<string | null>(null);
  const [tick, setTick] = useState({ n: 0, at: Date.now() });
  const [notice, setNotice] = useState<Notice | null>(greeting ? { kind: 'info', text: greeting } : null);
  const [chosen, setChosen] = useState<ScreenId | null>(null);
  const [intent, setIntent] = useState<Intent | undefined>(undefined);
  const [help, setHelp] = useState<Command[] | null>(null);
  const retained = useMemo(() => new Map<string, unknown>(), []);
  const meRef = useRef(me);
  meRef.current = me;

  const screens = me ? SCREENS.filter((s) => !screenRefused(me, s)) : [];
  const screen: ScreenId = chosen && screens.includes(chosen) ? chosen : screens[0] ?? 'mykeys';

  useEffect(() => {
    const timer = setInterval(() => setTick((t) => ({ n: t.n + 1, at: Date.now() })), refreshMs);
    return () => clearInterval(timer);
  }, [refreshMs]);

  // A store's changes, other processes' too (a database's LISTEN/NOTIFY), refresh at once; the
  // poll stays, for keys that expire with nothing written and for a server, which tells of none.
  useEffect(() => {
    const follower = followStoreChanges(service, () => setTick((t) => ({ n: t.n + 1, at: Date.now() })));
    return () => follower?.dispose();
  }, [service]);

  useEffect(() => {
    let live = true;
    service.whoami().then(
      (w) => live && setMe(w),
      (e: unknown) => {
        if (!live) return;
        if (meRef.current) setNotice({ kind: 'error', text: refusalText(e) });
        else setStartError(refusalText(e));
      },
    );
    return () => {
      live = false;
    };
  }, [service, tick.n]);

  const actions = useMemo<AppActions>(() => {
    // The person is told to look (OUTCOME_UNKNOWN's sentence): the list shows what is there.
    const reloadIfUnknown = (e: unknown) => {
      if (refusalCode(e) === 'OUTCOME_UNKNOWN') setTick((t) => ({ n: t.n + 1, at: Date.now() }));
    };
    return {
      service,
      refresh: () => {
        // Screens refresh after a change succeeds: a refusal from before it no longer applies.
        setNotice((n) => (n?.kind === 'error' ? null : n));
        setTick((t) => ({ n: t.n + 1, at: Date.now() }));
      },
      notify: setNotice,
      fail: (e) => {
        reloadIfUnknown(e);
        setNotice({ kind: 'error', text: refusalText(e) });
      },
      reloadIfUnknown,
      copy: (text, what, shownOnScreen = false) => {
        clipboard.copy(text);
        setNotice(copyNotice(clipboard.support, what, text, shownOnScreen));
      },
      navigate: (to, next) => {
        setChosen(to);
        setIntent(next);
        setHelp(null);
      },
    };
  }, [service, clipboard]);

  const active = useActiveCommands();
  useKeypress({ layer: Layer.system, commands: ['interrupt'] }, (_k, command) => {
    if (command !== 'interrupt') return false;
    exit();
    return true;
  });
  const goCommands = screens.length > 1 ? (Object.keys(GO) as Command[]).filter((c) => screens.includes(GO[c])) : [];
  useKeypress({ layer: Layer.global, commands: [...goCommands, 'help', 'quit', ...(notice ? (['back'] as Command[]) : [])] }, (k, command) => {
    if (command === 'quit') exit();
    else if (command === 'help') setHelp(active);
    else if (command === 'back') setNotice(null);
    else if (command && GO[command]) {
      setChosen(GO[command]);
      setIntent(undefined);
    } else {
      const refused = /^[1-4]$/.test(k.name) && me ? screenRefused(me, SCREENS[Number(k.name) - 1]) : undefined;
      if (!refused) return false;
      setNotice({ kind: 'info', text: `Keys, Events, Settings and Users are for tenant admins; this is My keys. (${refused.code})` });
    }
    return true;
  });
  const clearIntent = useCallback(() => setIntent(undefined), []);

  const height = Math.max(1, rows - 1); // one row short of the terminal, so Ink never scrolls it
  const frame = (body: ReactNode) => (
    <Box flexDirection="column" width={columns} height={height}>
      {body}
    </Box>
  );

  if (columns < MIN_COLUMNS || rows < MIN_ROWS) {
    return frame(<Text wrap="wrap">{`The terminal is ${columns}×${rows}; Keyward needs at least ${MIN_COLUMNS}×${MIN_ROWS}. Make it larger, or press q to quit.`}</Text>);
  }
  if (!me) {
    return frame(
      startError ? (
        <>
          <Text bold>Keyward could not start</Text>
          <Text wrap="wrap">{startError}</Text>
          <Text>Press q to quit.</Text>
        </>
      ) : (
        <Text>Keyward — opening {location}…</Text>
      ),
    );
  }

  const state: AppState = { me, tick: tick.n, now: tick.at };
  const bodyHeight = Math.max(1, height - 3 - statusRows(notice, columns));
  const screenProps = { width: columns, height: bodyHeight };
  let body: ReactNode;
  if (help) body = <Help title={SCREEN_TITLES[screen].title} commands={help} width={columns} height={bodyHeight} onClose={() => setHelp(null)} />;
  else if (screen === 'keys') body = <KeysScreen {...screenProps} intent={intent} onIntentDone={clearIntent} />;
  else if (screen === 'events') body = <EventsScreen {...screenProps} />;
  else if (screen === 'settings') body = <SettingsScreen {...screenProps} />;
  else if (screen === 'users') body = <UsersScreen {...screenProps} />;
  else body = <MyKeysScreen {...screenProps} />;

  return (
    <AppStateProvider value={state}>
      <AppActionsProvider value={actions}>
        <RetainedProvider value={retained}>
          {frame(
            <>
              <Header me={me} location={location} width={columns} />
              <Tabs screens={screens} current={screen} width={columns} />
              <Box height={bodyHeight} width={columns} flexDirection="column" overflow="hidden">
                {body}
              </Box>
              <StatusLine notice={notice} width={columns} />
              <Footer commands={active} width={columns} />
            </>,
          )}
        </RetainedProvider>
      </AppActionsProvider>
    </AppStateProvider>
  );
}
