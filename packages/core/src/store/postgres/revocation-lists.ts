// libpq's sslcrl and sslcrldir: certificate revocation lists the database's
// certificate is checked against, so a certificate its CA revoked (a key
// that leaked, a host retired) is refused though the CA signed it. Where the
// certificate is not checked (sslmode=require without sslrootcert, prefer,
// allow), neither are the lists, as in libpq.
//
// Each list is PEM (-----BEGIN X509 CRL-----), as libpq reads them; a file
// may hold several. sslcrldir names a directory whose every file is read
// (libpq wants OpenSSL's hashed names there; any name does here, Node having
// no hashed lookup). Two differences from libpq, both refusing rather than
// going on unchecked: a list named that cannot be read refuses the store
// (libpq goes on without a file it cannot find, so a typo turned the check
// off), as does a file that holds no list, or a directory that holds no file.
//
// Node checks every certificate of the chain against them once any is given
// (OpenSSL's CRL_CHECK and CRL_CHECK_ALL, as libpq sets): a CA with no list
// there is refused, as it is by libpq. The lists are read again for each
// connection opened (connection.ts freshFiles does the same for the CA and
// the client's certificate): a CA publishes a new list every few days.

import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createSecureContext } from 'node:tls';

/** The URL parameters that name revocation lists, and the environment variables libpq takes them from. */
export const REVOCATION_PARAMS = [
  ['sslcrl', 'PGSSLCRL'],
  ['sslcrldir', 'PGSSLCRLDIR'],
] as const;

const PEM_CRL = /-----BEGIN X509 CRL-----[\s\S]*?-----END X509 CRL-----/g;

/** The lists in one file, each checked by Node; an error naming `param` and `path` if it holds none, or one Node cannot read. */
function listsIn(param: string, path: string): string[] {
  const lists = readFileSync(path, 'utf8').match(PEM_CRL) ?? [];
  if (lists.length === 0) throw new Error(`its ${param} ${path} holds no certificate revocation list (PEM: -----BEGIN X509 CRL-----)`);
  for (const crl of lists) {
    try {
      createSecureContext({ crl });
    } catch (e) {
      throw new Error(`its ${param} ${path} holds a certificate revocation list that cannot be read (${(e as Error).message})`);
    }
  }
  return lists;
}

/** Every list `params` names: sslcrl's file, then each file in sslcrldir by name. Throws where one cannot be read. */
function read(params: URLSearchParams): string[] {
  const lists: string[] = [];
  const file = params.get('sslcrl');
  if (file) lists.push(...listsIn('sslcrl', file));
  const dir = params.get('sslcrldir');
  if (dir) {
    const files = readdirSync(dir)
      .sort()
      .map((name) => join(dir, name))
      .filter((path) => statSync(path).isFile());
    // libpq would check against no list at all, and so refuse every certificate.
    if (files.length === 0) throw new Error(`its sslcrldir ${dir} holds no file`);
    for (const path of files) lists.push(...listsIn('sslcrldir', path));
  }
  return lists;
}

/**
 * Gives `ssl` (node-postgres's TLS settings, passed to tls.connect) the lists
 * `params` names, read now — an error if one cannot be — and again for each
 * connection. A read that fails later keeps the lists last read (a file may
 * be mid-rename); the handshake then says whether they still hold.
 */
export function checkRevocation(ssl: object, params: URLSearchParams): void {
  if (!params.get('sslcrl') && !params.get('sslcrldir')) return;
  let last = read(params);
  Object.defineProperty(ssl, 'crl', {
    configurable: true,
    enumerable: true,
    get() {
      try {
        last = read(params);
      } catch {
        // Kept as last read: see above.
      }
      return last;
    },
  });
}
