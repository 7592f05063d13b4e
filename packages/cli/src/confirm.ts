// Confirmation before a command deletes or revokes more than one thing, or
// removes a user (behaviour §6): asked on a terminal, `--yes` for scripts. Without
// a terminal and without --yes nothing is changed and the command exits 2,
// as `gh repo delete` does, so a script never destroys by accident.

import { createInterface } from 'node:readline';
import { safeLines } from '@keyward/core';
import type { ParsedCommand } from './argv.js';
import { UsageError } from './usage-error.js';

/** Thrown when the person at the terminal answers no: nothing changed, exit 2. */
export class NotConfirmed extends Error {
  constructor() {
    super('Nothing was changed.');
    this.name = 'NotConfirmed';
  }
}

export interface Prompter {
  /** Whether a person can answer (stdin and stderr are terminals). */
  interactive: boolean;
  ask(question: string): Promise<string>;
}

export const terminalPrompter: Prompter = {
  get interactive() {
    return process.stdin.isTTY === true && process.stderr.isTTY === true;
  },
  ask(question) {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    return new Promise((resolve) => {
      rl.on('close', () => resolve(''));
      rl.question(safeLines(question), (answer) => {
        resolve(answer);
        rl.close();
      });
    });
  },
};

/**
 * Goes on when `--yes` was given or the person says yes to `what` (the lines
 * that state exactly what will happen); otherwise throws, changing nothing.
 */
export async function confirm(cmd: ParsedCommand, what: string[], action: string, prompter: Prompter = terminalPrompter): Promise<void> {
  if (cmd.flags.yes === true) return;
  if (!prompter.interactive) {
    throw new UsageError(`${action} needs confirmation: add --yes (nothing was changed).`, cmd.usage);
  }
  const answer = await prompter.ask(`${what.join('\n')}\nType y to go on, anything else to cancel [y/N]: `);
  if (!/^y(es)?$/i.test(answer.trim())) throw new NotConfirmed();
}
