// The terminal session: the UI rendered into the alternate screen, and the
// terminal given back however it ends.

import type { KeyService } from '@keyward/core';
import { render } from 'ink';
import { App } from './app.js';
import { createClipboard } from './clipboard.js';
import { enterFullScreen } from './terminal.js';
import type { TerminalUIOptions } from './index.js';
import { themeFor } from './theme.js';

const SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGHUP'];

export async function runSession(service: KeyService, opts: TerminalUIOptions): Promise<void> {
  const stdin = opts.stdin ?? process.stdin;
  const stdout = opts.stdout ?? process.stdout;
  const env = opts.env ?? process.env;
  if (!stdin.isTTY || !stdout.isTTY) {
    throw new Error('The terminal UI needs an interactive terminal; use the keyward subcommands instead (keyward --help).');
  }

  const screen = enterFullScreen(stdin, stdout);
  const clipboard = createClipboard((data) => stdout.write(data), env);
  const instance = render(<App service={service} location={opts.location} greeting={opts.greeting} refreshMs={opts.refreshMs ?? 2000} clipboard={clipboard} theme={themeFor(env)} />, {
    stdin,
    stdout,
    // ctrl-c is a key like q: it goes through the keypress layer and the same exit.
    exitOnCtrlC: false,
    patchConsole: true,
  });

  let crash: unknown;
  const onCrash = (error: unknown) => {
    crash = error;
    // Ink draws its last frame into the alternate screen, then we leave it.
    instance.unmount(error instanceof Error ? error : new Error(String(error)));
    screen.restore();
  };
  const onSignal = (signal: NodeJS.Signals) => {
    instance.unmount();
    screen.restore();
    detach();
    process.kill(process.pid, signal);
  };
  const detach = () => {
    process.off('uncaughtException', onCrash);
    for (const s of SIGNALS) process.off(s, onSignal);
  };
  process.on('uncaughtException', onCrash);
  for (const s of SIGNALS) process.on(s, onSignal);

  try {
    await instance.waitUntilExit();
  } finally {
    screen.restore();
    detach();
  }
  if (crash) throw crash;
}
