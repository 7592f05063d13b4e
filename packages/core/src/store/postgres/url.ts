// Telling a PostgreSQL store apart from a path, and showing its URL safely.
// Kept apart from the adapter so that naming a store never loads the driver.

import { withFirstHost, withHostsOf } from './host-list.js';

/** True for a store target that names a PostgreSQL database. */
export function isPostgresUrl(target: string): boolean {
  return /^postgres(ql)?:\/\//i.test(target);
}

// Query parameters libpq (and node-postgres) take a secret from: the password, the client key's passphrase.
const SECRET_PARAMS = ['password', 'sslpassword'];

/** The URL with its password taken out (and a password given as a parameter): what messages, headers and logs may show. */
export function redactUrl(url: string): string {
  try {
    // A URL with several hosts is shown with them all (host-list.ts): WHATWG URL parses one.
    const u = new URL(withFirstHost(url));
    if (u.password) u.password = '';
    // Only when there is one: rewriting the query encodes the rest anew (an sslrootcert's slashes as %2F).
    for (const p of SECRET_PARAMS) if (u.searchParams.has(p)) u.searchParams.delete(p);
    return withHostsOf(url, u.toString().replace(/^(postgres(?:ql)?:\/\/[^:@/]*):?@/i, '$1@'));
  } catch {
    return 'postgres://(a URL that does not parse)';
  }
}
