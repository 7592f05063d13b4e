// Decides where the command line works: a local JSON store or a Keyward
// server. Only the very first run at the default location creates a store
// (with the acting user as its first admin); a store named by --store or
// KEYWARD_STORE must exist, so a mistyped path is refused instead of turning
// a read-only `keys ls` into a brand-new tenant.

import { userInfo } from 'node:os';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { type KeyService, KeywardError, type WhenMissing, defaultStorePath, isPostgresUrl, openService, parseToken, printable, storeLocation } from '@keyward/core';
import type { ParsedCommand } from './argv.js';

export interface Connection {
  service: KeyService;
  /** The store path or server URL, for the terminal UI's header. */
  location: string;
  remote: boolean;
  /** Against a server: the id of the key whose token signs in (from KEYWARD_TOKEN). */
  signedInKey?: string;
}

export function storePathOf(cmd: ParsedCommand, env: NodeJS.ProcessEnv): string {
  return storeChoice(cmd, env).path;
}

/** A store as named: a postgres:// URL as it is, a path made absolute. */
export function storeTarget(named: string): string {
  return isPostgresUrl(named) ? named : resolve(named);
}

/** The store (a path or a postgres:// URL) and what named it: --store, KEYWARD_STORE, or nothing (the default location). */
export function storeChoice(cmd: ParsedCommand, env: NodeJS.ProcessEnv): { path: string; namedBy?: '--store' | 'KEYWARD_STORE' } {
  if (typeof cmd.flags.store === 'string') return { path: storeTarget(cmd.flags.store), namedBy: '--store' };
  if (env.KEYWARD_STORE) return { path: storeTarget(env.KEYWARD_STORE), namedBy: 'KEYWARD_STORE' };
  return { path: defaultStorePath(env) };
}

/** Who acts when no --as is given: KEYWARD_USER, else the operating-system user. */
export function defaultActor(env: NodeJS.ProcessEnv): string {
  if (env.KEYWARD_USER) return env.KEYWARD_USER;
  try {
    return userInfo().username;
  } catch {
    return env.USER ?? 'admin';
  }
}

export function actorOf(cmd: ParsedCommand, env: NodeJS.ProcessEnv): string {
  return (cmd.flags.as as string | undefined) ?? defaultActor(env);
}

export function serverOf(cmd: ParsedCommand, env: NodeJS.ProcessEnv): string | undefined {
  return (cmd.flags.server as string | undefined) ?? (env.KEYWARD_SERVER || undefined);
}

/**
 * The default store's path when a command would create it: no server, no
 * store named, and nothing there yet. A command that only reads (`scan`)
 * works without a store rather than create one.
 */
export function missingDefaultStore(cmd: ParsedCommand, env: NodeJS.ProcessEnv): string | undefined {
  if (serverOf(cmd, env)) return undefined;
  const choice = storeChoice(cmd, env);
  return choice.namedBy === undefined && !existsSync(choice.path) ? choice.path : undefined;
}

/** Opens the service for a command; `say` reports what was done on the user's behalf (to stderr). */
export async function connect(cmd: ParsedCommand, env: NodeJS.ProcessEnv, say: (line: string) => void): Promise<Connection> {
  const server = serverOf(cmd, env);
  if (server) {
    const token = env.KEYWARD_TOKEN;
    if (!token) throw new KeywardError('UNAUTHENTICATED', `Set KEYWARD_TOKEN to a Keyward token to work against ${printable(server, 80)}.`);
    // Against a server the token decides who acts and the server owns its store.
    const via = cmd.flags.server ? '--server' : 'KEYWARD_SERVER';
    if (typeof cmd.flags.as === 'string') say(`warning: --as is ignored with ${via}: the token in KEYWARD_TOKEN decides who acts.`);
    if (typeof cmd.flags.store === 'string') say(`warning: --store is ignored with ${via}: the server uses its own store.`);
    const parsed = parseToken(token);
    // A command says so on stderr when the token is about to end (the terminal UI owns the screen, so not there).
    const onTokenExpiring = cmd.name === 'ui' ? undefined : (expiry: string) => say(`warning: KEYWARD_TOKEN expires ${expiry} (within 7 days); generate a new token before then.`);
    return { service: await openService({ server, token, onTokenExpiring }), location: server, remote: true, signedInKey: parsed.ok ? parsed.keyId : undefined };
  }
  const choice = storeChoice(cmd, env);
  const actor = actorOf(cmd, env);
  const service = await openService({ store: choice.path, actor, missing: whenMissing(choice, actor, say) });
  return { service, location: storeLocation(choice.path), remote: false };
}

/**
 * What to do when the chosen store is not there. At the default location it
 * is created (the very first run, with `admin` as the tenant's first admin);
 * a store named by --store or KEYWARD_STORE that does not exist is refused,
 * and a database is never made by a read: `keyward init` makes one.
 */
export function whenMissing(choice: { path: string; namedBy?: string }, admin: string, say: (line: string) => void): WhenMissing {
  const { path, namedBy } = choice;
  const init = `create one there with \`keyward init --store ${shellWord(storeLocation(path))}\``;
  if (isPostgresUrl(path)) return { advice: init, namedBy };
  if (namedBy) return { advice: `check the path, or ${init}`, namedBy };
  return { firstAdmin: admin, onCreated: () => say(`Created a new Keyward store at ${path} with you (${admin}) as the first tenant admin.`) };
}

/** A word a POSIX shell reads back as it is: quoted only when it needs to be. */
export function shellWord(text: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

