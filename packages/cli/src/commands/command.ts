import type { KeyService } from '@keyward/core';
import type { ParsedCommand } from '../argv.js';
import type { Output } from '../io.js';
import { printable } from '@keyward/core';
import { UsageError } from '../usage-error.js';

export interface CommandContext {
  service: KeyService;
  cmd: ParsedCommand;
  out: Output;
  /** Against a server: the id of the key whose token (KEYWARD_TOKEN) signs this command line in. */
  signedInKey?: string;
}

/** A command returns its exit code (0 when it returns nothing). */
export type Command = (ctx: CommandContext) => Promise<number | void>;

/** Checks the number of positional arguments. */
export function expectArgs(cmd: ParsedCommand, min: number, max: number, what: string): string[] {
  if (cmd.args.length < min) throw new UsageError(`Missing ${what}.`, cmd.usage);
  if (cmd.args.length > max) throw unexpectedArgument(cmd.args[max], cmd.usage);
  return cmd.args;
}

/** A word the command does not take; printable, because it may be a token pasted one word too far. */
export function unexpectedArgument(word: string, usage: string): UsageError {
  return new UsageError(`Unexpected argument "${printable(word)}".`, usage);
}
