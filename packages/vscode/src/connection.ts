// Where the extension works, from its settings: a local JSON store acted on as
// `keyward.user`, or a Keyward server with a token from secret storage. The
// token is stored per server URL, so a workspace that points keyward.server
// somewhere else never receives the token given for another server.

import { homedir, userInfo } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { KeywardError, defaultStorePath, isPostgresUrl, printable, storeLocation } from '@keyward/core';

export interface ConnectionSettings {
  store: string;
  user: string;
  server: string;
}

export type ConnectionTarget = { kind: 'local'; path: string; actor: string } | { kind: 'server'; url: string };

export function operatingSystemUser(env: NodeJS.ProcessEnv = process.env): string {
  try {
    return userInfo().username;
  } catch {
    return env.USER ?? env.USERNAME ?? 'admin';
  }
}

/** A store path as typed in settings: `~` is the home directory; relative paths start at the workspace folder. */
export function storePathOf(text: string, workspaceDir: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const t = text.trim();
  if (t === '') return defaultStorePath(env);
  if (isPostgresUrl(t)) return t;
  if (t === '~' || t.startsWith('~/')) return join(homedir(), t.slice(1));
  return isAbsolute(t) ? t : resolve(workspaceDir ?? homedir(), t);
}

/** The server URL without a trailing slash; refuses anything but http(s). */
export function serverUrlOf(text: string): string {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new KeywardError('INVALID_INPUT', `The keyward.server setting "${printable(text)}" is not a URL; use one like http://127.0.0.1:8787.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new KeywardError('INVALID_INPUT', `The keyward.server setting must be an http or https URL, not "${printable(text)}".`);
  }
  return url.href.replace(/\/+$/, '');
}

export function targetOf(s: ConnectionSettings, workspaceDir: string | undefined, env: NodeJS.ProcessEnv = process.env): ConnectionTarget {
  if (s.server.trim() !== '') return { kind: 'server', url: serverUrlOf(s.server) };
  return { kind: 'local', path: storePathOf(s.store, workspaceDir, env), actor: s.user.trim() || operatingSystemUser(env) };
}

/** The secret-storage key of the token for one server. */
export function tokenSecretKey(serverUrl: string): string {
  return `keyward.token:${serverUrl}`;
}

export function describeTarget(t: ConnectionTarget): string {
  return t.kind === 'server' ? t.url : `${storeLocation(t.path)} as ${t.actor}`;
}
