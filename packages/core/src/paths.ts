import { homedir } from 'node:os';
import { join } from 'node:path';

/** `$XDG_DATA_HOME/keyward/keyward.json`, else `~/.local/share/keyward/keyward.json`. */
export function defaultStorePath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_DATA_HOME && env.XDG_DATA_HOME.startsWith('/') ? env.XDG_DATA_HOME : join(homedir(), '.local', 'share');
  return join(base, 'keyward', 'keyward.json');
}
