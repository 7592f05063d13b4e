// Decides where the command line works: a local JSON store (created on first
// use, with the acting user as its first admin) or a Keyward server.

import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { type KeyService, type Store, KeywardError, createEngine, createJsonFileStore, createRemoteService, defaultStorePath, initStore } from '@keyward/core';
import type { ParsedCommand } from './argv.js';

export interface Connection {
  service: KeyService;
  /** The store path or server URL, for the terminal UI's header. */
  location: string;
  remote: boolean;
}

export function storePathOf(cmd: ParsedCommand, env: NodeJS.ProcessEnv): string {
  const p = (cmd.flags.store as string | undefined) ?? env.KEYWARD_STORE;
  return p ? resolve(p) : defaultStorePath(env);
}

export function actorOf(cmd: ParsedCommand, env: NodeJS.ProcessEnv): string {
  const a = (cmd.flags.as as string | undefined) ?? env.KEYWARD_USER;
  if (a) return a;
  try {
    return userInfo().username;
  } catch {
    return env.USER ?? 'admin';
  }
}

export function serverOf(cmd: ParsedCommand, env: NodeJS.ProcessEnv): string | undefined {
  return (cmd.flags.server as string | undefined) ?? (env.KEYWARD_SERVER || undefined);
}

/** Opens the service for a command; `say` reports what was done on the user's behalf (to stderr). */
export async function connect(cmd: ParsedCommand, env: NodeJS.ProcessEnv, say: (line: string) => void): Promise<Connection> {
  const server = serverOf(cmd, env);
  if (server) {
    const token = env.KEYWARD_TOKEN;
    if (!token) throw new KeywardError('UNAUTHENTICATED', `Set KEYWARD_TOKEN to a Keyward token to work against ${server}.`);
    return { service: createRemoteService(server, token), location: server, remote: true };
  }
  const path = storePathOf(cmd, env);
  const actor = actorOf(cmd, env);
  const store = await ensureStore(path, actor, say);
  return { service: createEngine(store).as(actor), location: path, remote: false };
}

/** Opens the store at `path`, creating it first (with `admin` as the tenant's first admin) when there is none. */
export async function ensureStore(path: string, admin: string, say: (line: string) => void): Promise<Store> {
  const store = createJsonFileStore(path);
  if (!existsSync(path) && (await initStore(store, { admin }))) {
    say(`Created a new Keyward store at ${path} with you (${admin}) as the first tenant admin.`);
  }
  return store;
}

