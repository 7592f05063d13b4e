// The terminal UI's entry point: `keyward` with no subcommand, on a TTY.

import type { KeyService } from '@keyward/core';

export interface TerminalUIOptions {
  /** The store path or server URL, shown in the header. */
  location: string;
  stdin?: NodeJS.ReadStream;
  stdout?: NodeJS.WriteStream;
  /** A note to show in the status line on start (the store was just created). */
  greeting?: string;
  /** How often to look for changes made by other processes (ms). */
  refreshMs?: number;
  env?: NodeJS.ProcessEnv;
}

/**
 * Runs the terminal UI until the user quits. Resolves on q or ctrl-c; on
 * SIGTERM or SIGHUP it restores the terminal and re-raises the signal; on a
 * crash it restores the terminal and rejects with the error.
 */
export async function runTerminalUI(service: KeyService, opts: TerminalUIOptions): Promise<void> {
  // React picks its build when it is first loaded: unless told otherwise, the
  // UI runs React's production build, several times cheaper per keystroke
  // than the development one. So React (with Ink) is loaded only from here.
  process.env.NODE_ENV ??= 'production';
  const { runSession } = await import('./session.js');
  return runSession(service, opts);
}
