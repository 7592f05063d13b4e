// Runs one `keyward` invocation and returns its exit code: 0 done, 1 refused
// (`error: <sentence> (<CODE>)`), 2 a usage mistake (with the usage).

import { type ErrorCode, KeywardError, safeJson } from '@keyward/core';
import { type ParsedCommand, parseArgv } from './argv.js';
import { type Command, unexpectedArgument } from './commands/command.js';
import { addUser, listUsers, removeUser, setUser } from './commands/users.js';
import { rotateKey } from './commands/rotate.js';
import { createKey, getKey, listKeys, removeKeys, renameKey, revokeKeys, verifyKey } from './commands/keys.js';
import { listEvents, showUsage } from './commands/events.js';
import { setSettings, showSettings } from './commands/settings.js';
import { init } from './commands/init.js';
import { storeCopy } from './commands/store-copy.js';
import { scan } from './commands/scan.js';
import { connect, missingDefaultStore } from './connect.js';
import { consoleOutput, print } from './io.js';
import { refreshMsOf } from './options.js';
import { OVERVIEW, helpFor } from './usage.js';
import { UsageError } from './usage-error.js';
import { NotConfirmed } from './confirm.js';

const COMMANDS: Record<string, Command> = {
  settings: showSettings,
  'settings set': setSettings,
  'users ls': listUsers,
  'users add': addUser,
  'users set': setUser,
  'users rm': removeUser,
  'keys ls': listKeys,
  'keys create': createKey,
  'keys get': getKey,
  'keys rename': renameKey,
  'keys revoke': revokeKeys,
  'keys rm': removeKeys,
  'keys verify': verifyKey,
  'keys rotate': rotateKey,
  'events ls': listEvents,
  usage: showUsage,
  scan,
};

export interface Faces {
  /** Opens the terminal UI; absent in builds without one. `notes`: what was done on the user's behalf (a store created), to show inside it. */
  ui?: (conn: Awaited<ReturnType<typeof connect>>, notes: string[], opts: { refreshMs?: number }) => Promise<void>;
  serve?: (cmd: ParsedCommand, env: NodeJS.ProcessEnv) => Promise<number>;
}

function usageText(usage: string): string {
  return usage.startsWith('keyward ') ? `\nUsage: ${usage}\n` : `\n${usage}\n`;
}

/** Turns any failure into the one line a person reads, with its code. */
export function describeFailure(e: unknown, storeHint?: string): { code: ErrorCode; message: string } {
  if (e instanceof KeywardError) return { code: e.code, message: e.message };
  const err = e as NodeJS.ErrnoException;
  if (err && typeof err.code === 'string' && /^E[A-Z]+$/.test(err.code)) {
    const where = err.path ?? storeHint ?? 'the store';
    return { code: 'UNAVAILABLE', message: `Cannot use ${where}: ${err.code === 'EACCES' ? 'permission denied' : err.code === 'ENOENT' ? 'no such file or directory' : err.code === 'EISDIR' ? 'it is a directory' : err.code === 'ENOTDIR' ? 'a part of the path is not a directory' : err.message}.` };
  }
  return { code: 'INTERNAL', message: `Unexpected failure: ${err?.message ?? String(e)}` };
}

export async function run(argv: string[], env: NodeJS.ProcessEnv, faces: Faces = {}): Promise<number> {
  let json = argv.includes('--json');
  const out = () => consoleOutput(json);
  const fail = (code: ErrorCode, message: string) => {
    if (json) process.stdout.write(safeJson({ error: { code, message } }) + '\n');
    else print(process.stderr, `error: ${message} (${code})\n`);
  };
  let cmd: ParsedCommand;
  try {
    cmd = parseArgv(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    fail('INVALID_INPUT', e.message);
    if (!json) print(process.stderr, usageText(e.usage));
    return 2;
  }
  json = cmd.json;
  if (cmd.version !== undefined) {
    print(process.stdout, (json ? safeJson({ version: cmd.version }) : cmd.version) + '\n');
    return 0;
  }
  if (cmd.help) {
    print(process.stdout, helpFor(cmd.topic) + '\n');
    return 0;
  }
  let refreshMs: number | undefined;
  try {
    if (cmd.name === 'init') return await init(cmd, env, out());
    if (cmd.name === 'store copy') return await storeCopy(cmd, env, out());
    // A scan only reads: before the very first run there is no store, and a scan does not make one.
    const noStore = cmd.name === 'scan' ? missingDefaultStore(cmd, env) : undefined;
    if (noStore !== undefined) return (await scan({ cmd, out: out(), noStore })) ?? 0;
    if (cmd.name === 'serve') {
      if (!faces.serve) throw new KeywardError('UNAVAILABLE', 'This build of keyward has no server.');
      return await faces.serve(cmd, env);
    }
    if (cmd.name === 'ui') {
      if (cmd.args.length > 0) throw unexpectedArgument(cmd.args[0], OVERVIEW);
      // Checked before the terminal is taken over, and before the store is opened.
      refreshMs = refreshMsOf(cmd.flags.refresh);
      if (!faces.ui || !process.stdin.isTTY || !process.stdout.isTTY) {
        print(
          process.stderr,
          faces.ui
            ? 'keyward: the terminal UI needs an interactive terminal (no TTY here); use the subcommands instead:\n\n'
            : '',
        );
        print(process.stdout, OVERVIEW + '\n');
        return faces.ui ? 2 : 0;
      }
    }
  } catch (e) {
    if (e instanceof UsageError) {
      fail('INVALID_INPUT', e.message);
      if (!json) print(process.stderr, usageText(e.usage));
      return 2;
    }
    const f = describeFailure(e);
    fail(f.code, f.message);
    return 1;
  }
  let conn;
  const notes: string[] = [];
  try {
    conn = await connect(cmd, env, (line) => {
      notes.push(line);
      print(process.stderr, line + '\n');
    });
  } catch (e) {
    const f = describeFailure(e);
    fail(f.code, f.message);
    return 1;
  }
  try {
    if (cmd.name === 'ui') {
      await faces.ui!(conn, notes, { refreshMs });
      return 0;
    }
    return (await COMMANDS[cmd.name]({ service: conn.service, cmd, out: out(), signedInKey: conn.signedInKey })) ?? 0;
  } catch (e) {
    if (e instanceof NotConfirmed) {
      print(process.stderr, `${e.message}\n`);
      return 2;
    }
    if (e instanceof UsageError) {
      fail('INVALID_INPUT', e.message);
      if (!json) print(process.stderr, usageText(e.usage));
      return 2;
    }
    const f = describeFailure(e, conn.location);
    fail(f.code, f.message);
    return 1;
  } finally {
    await conn.service.close().catch((e: unknown) => {
      const f = describeFailure(e, conn.location);
      print(process.stderr, `warning: could not record usage: ${f.message} (${f.code})\n`);
    });
  }
}
