// The database password when the store's URL holds none, found where libpq
// finds it: PGPASSWORD, else the password file (PGPASSFILE, or ~/.pgpass) —
// so it need not be in the URL, where `ps`, shell history and a unit file
// show it. Keyward reads the file itself rather than leave it to
// node-postgres, which prints a deprecation warning when it does (a raw line
// on the terminal of `keyward serve` or the terminal UI) and drops it in
// pg 9. Asked only when the database asks for a password (a `trust` or
// certificate login never does), and again for every connection: a rotated
// password is used without a restart.

import { readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { KeywardError } from '../../refusal.js';

/** What node-postgres hands a password function: the connection it is opening. */
export interface PasswordAsked {
  host?: string;
  port?: number | string;
  database?: string;
  user?: string;
}

const DEFAULT_PORT = 5432;

/**
 * The password for the connection `asked`, or a refusal saying where it was
 * looked for (`location`: the store's URL without its password).
 */
export async function passwordFor(asked: PasswordAsked, location: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  // As libpq: an empty PGPASSWORD is none.
  if (env.PGPASSWORD) return env.PGPASSWORD;
  const file = env.PGPASSFILE || join(env.HOME || homedir(), '.pgpass');
  const found = await fromPasswordFile(file, asked);
  if (found.password !== undefined) return found.password;
  const why = found.skipped ? ` (${file} was not read: ${found.skipped})` : '';
  throw new KeywardError(
    'UNAVAILABLE',
    `The PostgreSQL store at ${location} asks for a password, and none was given${why}: put it in the URL (postgres://USER:PASSWORD@HOST/DB), in PGPASSWORD, or in ~/.pgpass (or the file PGPASSFILE names, mode 0600); nothing was changed.`,
  );
}

/** The password of the first line of `file` that matches, as libpq reads it; why the file was skipped, where it was. */
async function fromPasswordFile(file: string, asked: PasswordAsked): Promise<{ password?: string; skipped?: string }> {
  let text: string;
  try {
    const s = await stat(file);
    if (!s.isFile()) return { skipped: 'it is not a plain file' };
    // libpq ignores a file others may read, and says so.
    if (process.platform !== 'win32' && (s.mode & 0o077) !== 0) return { skipped: 'others may read it; chmod 600 it' };
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? {} : { skipped: `it cannot be read (${code ?? 'error'})` };
  }
  // A socket directory for a host is libpq's local connection, which the file names "localhost".
  const host = !asked.host || asked.host.startsWith('/') ? 'localhost' : asked.host;
  const wanted = [host, String(asked.port ?? DEFAULT_PORT), asked.database ?? asked.user ?? '', asked.user ?? ''];
  for (const line of text.split(/\r?\n/)) {
    if (line === '' || line.startsWith('#')) continue;
    const fields = passwordFileFields(line);
    if (fields.length < 5) continue;
    if (wanted.every((w, i) => fields[i] === '*' || fields[i] === w)) return { password: fields[4] };
  }
  return {};
}

/** A password file line's fields: host, port, database, user split at each ':' not escaped with '\', the password the rest; every '\x' read as x. */
export function passwordFileFields(line: string): string[] {
  const fields: string[] = [];
  let field = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '\\' && i + 1 < line.length) field += line[++i];
    else if (c === ':' && fields.length < 4) {
      fields.push(field);
      field = '';
    } else field += c;
  }
  fields.push(field);
  return fields;
}
