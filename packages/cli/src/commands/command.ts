import type { KeyService } from '@keyward/core';
import type { ParsedCommand } from '../argv.js';
import type { Output } from '../io.js';
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
  if (cmd.args.length > max) throw new UsageError(`Unexpected argument "${cmd.args[max]}".`, cmd.usage);
  return cmd.args;
}
