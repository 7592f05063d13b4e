// Telling a PostgreSQL store apart from a path, and showing its URL safely.
// Kept apart from the adapter so that naming a store never loads the driver.

import { withFirstHost, withHostsOf } from './host-list.js';

/** True for a store target that names a PostgreSQL database. */
export function isPostgresUrl(target: string): boolean {
  return /^postgres(ql)?:\/\//i.test(target);
}

// Query parameters libpq (and node-postgres) take a secret from: the password, the client key's passphrase.
const SECRET_PARAMS = ['password', 'sslpassword'];

// libpq's URL may name a user and leave the host out, to take it from ?host= (a Unix socket's directory:
// postgres://alice:pw@/keyward?host=/var/run/postgresql), which WHATWG URL does not parse: a stand-in goes there.
const EMPTY_HOST = /^(postgres(?:ql)?:\/\/[^/?#@]*@)(?=[/?#:]|$)/i;
const STAND_IN = 'keyward-empty-host.invalid';

/** The URL with its password taken out (and a password given as a parameter): what messages, headers and logs may show. */
export function redactUrl(url: string): string {
  try {
    const emptyHost = EMPTY_HOST.test(url);
    // A URL with several hosts is shown with them all (host-list.ts): WHATWG URL parses one.
    const u = new URL(withFirstHost(emptyHost ? url.replace(EMPTY_HOST, `$1${STAND_IN}`) : url));
    if (u.password) u.password = '';
    // Only when there is one: rewriting the query encodes the rest anew (an sslrootcert's slashes as %2F).
    for (const p of SECRET_PARAMS) if (u.searchParams.has(p)) u.searchParams.delete(p);
    const shown = u.toString().replace(/^(postgres(?:ql)?:\/\/[^:@/]*):?@/i, '$1@');
    return withHostsOf(url, emptyHost ? shown.replace(`@${STAND_IN}`, '@') : shown);
  } catch {
    return 'postgres://(a URL that does not parse)';
  }
}
