// How a PostgreSQL store's URL becomes node-postgres's connection settings,
// the one place every connection the store opens (its pool, its LISTEN
// client) takes them from. TLS is asked for as libpq asks for it, by URL
// parameters — sslmode, sslrootcert, sslcert, sslkey, and the revocation
// lists sslcrl and sslcrldir (revocation-lists.ts) — and each sslmode
// means what libpq says it means, which is what a tenant admin pasting a
// managed database's URL (RDS, Cloud SQL, Azure) expects:
//   disable      no TLS
//   require      TLS, the server's certificate not checked (with sslrootcert: as verify-ca)
//   verify-ca    TLS, the certificate signed by the CA in sslrootcert
//   verify-full  as verify-ca, and the certificate names the host (without sslrootcert, or with
//                sslrootcert=system: Node's CAs)
// node-postgres 8 on its own takes require and verify-ca for verify-full —
// require against a database whose CA Node does not know was refused — and
// prints a security warning to say so (pg 9 will follow libpq). `prefer` and
// `allow` encrypt as require does where the server has TLS, and go on in
// plain text where it has none (tls-or-plain.ts); node-postgres's own
// `no-verify` stays what it was (as require). The files named are read when
// the store opens (one that cannot be read refuses it), and again for every
// connection it opens after (freshFiles). What the URL leaves out, libpq's
// environment gives: PGSSLMODE, PGSSLROOTCERT and the like (withEnvironment),
// and the password from PGPASSWORD or ~/.pgpass (password.ts); without an
// sslmode in either, libpq's default, prefer. connect_timeout (or
// PGCONNECT_TIMEOUT) bounds each connection attempt as in libpq
// (connectTimeoutOf), and load_balance_hosts (or PGLOADBALANCEHOSTS) orders
// the look for the primary among several hosts (loadBalanceOf).

import { readFileSync } from 'node:fs';
import { parse, toClientConfig } from 'pg-connection-string';
import { KeywardError } from '../../refusal.js';
import { type KeywardClientConfig, PrimaryChoice } from './keyward-client.js';
import { hostsOf, withFirstHost } from './host-list.js';
import { type PasswordAsked, passwordFor } from './password.js';
import { REVOCATION_PARAMS, checkRevocation } from './revocation-lists.js';
import { redactUrl } from './url.js';

const FILES = ['sslrootcert', 'sslcert', 'sslkey'] as const;
/** Where node-postgres's TLS settings take each file's text. */
const FIELD = { sslrootcert: 'ca', sslcert: 'cert', sslkey: 'key' } as const;

/** libpq's modes that take a server without TLS as it is. */
const PLAIN_IF_NO_TLS = new Set(['prefer', 'allow']);

/**
 * libpq's environment variables for the TLS parameters, connect_timeout and load_balance_hosts,
 * each taken where the URL does not give its parameter, and then meaning what
 * it means in a URL.
 * (node-postgres reads PGSSLMODE itself, in its own sense: require as
 * verify-full against Node's CAs, which refuses a managed database's CA.)
 */
const FROM_ENVIRONMENT = [
  ['sslmode', 'PGSSLMODE'],
  ['sslrootcert', 'PGSSLROOTCERT'],
  ['sslcert', 'PGSSLCERT'],
  ['sslkey', 'PGSSLKEY'],
  ['sslnegotiation', 'PGSSLNEGOTIATION'],
  ['connect_timeout', 'PGCONNECT_TIMEOUT'],
  ['load_balance_hosts', 'PGLOADBALANCEHOSTS'],
  ...REVOCATION_PARAMS,
] as const;

/**
 * libpq's sslmode where neither the URL nor PGSSLMODE names one: TLS where the
 * server has it (a managed database that takes TLS only, as RDS does by
 * default, is reached as psql reaches it), plain text where it has none —
 * verify-full with sslrootcert=system (below).
 */
const DEFAULT_SSLMODE = 'prefer';

/**
 * libpq 16's sslrootcert=system: the TLS library's own trusted CAs (here
 * Node's, with NODE_EXTRA_CA_CERTS), for a database whose certificate a
 * public CA signed. Only with verify-full, as libpq insists: anyone can get
 * a publicly trusted certificate for a host they control, so a weaker check
 * would prove nothing.
 */
const SYSTEM_ROOTS = 'system';

/**
 * libpq's target_session_attrs values that Keyward can honour: it uses the
 * primary whatever the URL says (keyward-client.ts), which is what these
 * ask for, or accept. The others ask for a standby, which Keyward refuses.
 */
const PRIMARY_SESSIONS = new Set(['any', 'read-write', 'primary']);

/**
 * connect_timeout in milliseconds: how long one attempt to connect to one
 * host may take (each host of a list in turn, the pool's connections, the
 * change feed's). A whole number of seconds, as in libpq, which takes 1 as 2.
 * libpq waits without end for 0 or less; a server must not (a request would
 * hang on a database that never answers), so Keyward then keeps its own
 * bounds, as without the parameter: the pool 5 s, the feed and each host's
 * look 2 s.
 */
export function connectTimeoutOf(params: URLSearchParams): number | undefined {
  const text = params.get('connect_timeout');
  if (text === null) return undefined;
  if (!/^\s*[+-]?\d+\s*$/.test(text)) throw new Error(`connect_timeout must be a whole number of seconds, as in libpq, not "${text}"`);
  const seconds = Number(text);
  return seconds <= 0 ? undefined : Math.max(2, seconds) * 1000;
}

/**
 * libpq's load_balance_hosts: whether each look for the primary among a
 * URL's hosts tries them in a random order (keyward-client.ts PrimaryChoice)
 * rather than the list's. Another value is refused, as libpq refuses it.
 */
export function loadBalanceOf(params: URLSearchParams): boolean {
  const mode = params.get('load_balance_hosts');
  if (mode === null || mode === 'disable') return false;
  if (mode === 'random') return true;
  throw new Error(`load_balance_hosts must be disable or random, as in libpq, not "${mode}"`);
}

/** The URL's query parameters. */
const paramsOf = (url: string) => new URLSearchParams(url.includes('?') ? url.slice(url.indexOf('?') + 1) : '');

/** `url` with each TLS parameter it leaves out that the environment gives (FROM_ENVIRONMENT), and libpq's default sslmode. */
function withEnvironment(url: string, env: NodeJS.ProcessEnv): string {
  const given = paramsOf(url);
  const added = FROM_ENVIRONMENT.filter(([param, name]) => env[name] && !given.has(param)).map(([param, name]) => `${param}=${encodeURIComponent(env[name]!)}`);
  const roots = given.get('sslrootcert') ?? env.PGSSLROOTCERT;
  if (!given.has('sslmode') && !env.PGSSLMODE) added.unshift(`sslmode=${roots === SYSTEM_ROOTS ? 'verify-full' : DEFAULT_SSLMODE}`);
  if (added.length === 0) return url;
  const separator = !url.includes('?') ? '?' : /[?&]$/.test(url) ? '' : '&';
  return `${url}${separator}${added.join('&')}`;
}

/** `url` without sslrootcert=system, so node-postgres checks against Node's CAs; refused with an sslmode weaker than verify-full. */
function withSystemRoots(url: string): string {
  const params = paramsOf(url);
  if (params.get('sslrootcert') !== SYSTEM_ROOTS) return url;
  if (params.get('sslmode') !== 'verify-full') {
    throw new Error(`sslrootcert=system needs sslmode=verify-full, as in libpq (it has sslmode=${params.get('sslmode')}): a certificate a public CA signed proves nothing unless it names the host`);
  }
  const [base, query] = [url.slice(0, url.indexOf('?')), url.slice(url.indexOf('?') + 1)];
  const kept = query.split('&').filter((part) => {
    const [name, value = ''] = part.split('=');
    return !(decodeURIComponent(name) === 'sslrootcert' && decodeURIComponent(value) === SYSTEM_ROOTS);
  });
  return kept.length ? `${base}?${kept.join('&')}` : base;
}

/** The connection settings `url` names (with libpq's TLS environment variables), with libpq's meaning of sslmode. */
export function connectionConfig(named: string, env: NodeJS.ProcessEnv = process.env): KeywardClientConfig {
  const url = withEnvironment(named, env);
  try {
    const attrs = paramsOf(url).get('target_session_attrs');
    if (attrs !== null && !PRIMARY_SESSIONS.has(attrs)) {
      throw new Error(`target_session_attrs=${attrs} asks for a standby, and Keyward needs the primary (a standby's copy lags, and a revoked key must be refused at once): leave it out, or say read-write or primary`);
    }
    // Several hosts (libpq's host1:port1,host2:port2): parsed with the first, the list kept for PrimaryChoice.
    const hosts = hostsOf(url);
    const parseable = withSystemRoots(withFirstHost(url));
    // A URL that says uselibpqcompat itself is taken at its word (pg-connection-string refuses both).
    const parsed = parse(parseable, /[?&]uselibpqcompat=/i.test(parseable) ? {} : { useLibpqCompat: true });
    // Modes libpq has that pg-connection-string's libpq mode leaves to verify-full.
    if ((parsed.sslmode === 'allow' || parsed.sslmode === 'no-verify') && typeof parsed.ssl === 'object') parsed.ssl.rejectUnauthorized = false;
    const plainIfNoTls = PLAIN_IF_NO_TLS.has(String(parsed.sslmode ?? ''));
    // As libpq: a direct TLS handshake has no answer to go on in plain text after.
    if (plainIfNoTls && (parsed as { sslnegotiation?: unknown }).sslnegotiation === 'direct') {
      throw new Error(`sslnegotiation=direct needs sslmode=require or stronger, as in libpq (it has sslmode=${parsed.sslmode})`);
    }
    const config: KeywardClientConfig = toClientConfig(parsed);
    // No password in the URL: PGPASSWORD or the password file, looked up as libpq does (password.ts).
    if (!config.password) config.password = (asked?: PasswordAsked) => passwordFor(asked ?? {}, redactUrl(named), env);
    if (typeof config.ssl === 'object') {
      freshFiles(config.ssl, parsed as Partial<Record<(typeof FILES)[number], unknown>>);
      checkRevocation(config.ssl, paramsOf(url));
    }
    const random = loadBalanceOf(paramsOf(url));
    if (hosts) config.primaryOf = new PrimaryChoice(hosts, random);
    const connectTimeoutMs = connectTimeoutOf(paramsOf(url));
    if (connectTimeoutMs !== undefined) config.connectTimeoutMs = connectTimeoutMs;
    return plainIfNoTls && config.ssl ? { ...config, plainIfNoTls: true } : config;
  } catch (e) {
    throw unusable(named, url, e);
  }
}

/**
 * Each file the URL names read again whenever its text is taken: node-postgres
 * takes it for every TLS handshake (and the key also as it makes a client),
 * so each connection opened from now on uses the files as they are then. A
 * certificate, key or CA renewed in place (cert-manager, Vault, a managed
 * database's new CA) is used without restarting `keyward serve`: its pool
 * opens connections as it needs them, and its LISTEN client when the
 * database restarts. A file that cannot be read then keeps the text last read
 * (it may be mid-rename): the handshake then says whether that still holds.
 */
function freshFiles(ssl: object, parsed: Partial<Record<(typeof FILES)[number], unknown>>): void {
  for (const param of FILES) {
    const path = parsed[param];
    const field = FIELD[param];
    if (typeof path !== 'string' || !(field in ssl)) continue;
    let last = (ssl as Record<string, unknown>)[field];
    Object.defineProperty(ssl, field, {
      configurable: true,
      enumerable: true,
      get() {
        try {
          last = readFileSync(path, 'utf8');
        } catch {
          // Kept as last read: see above.
        }
        return last;
      },
    });
  }
}

/** Why the settings cannot be used, as a refusal that names no password: `named` as given, `url` with what the environment added. */
function unusable(named: string, url: string, e: unknown): KeywardError {
  const err = e as NodeJS.ErrnoException | undefined;
  if (err && typeof err.code === 'string' && typeof err.path === 'string') {
    // The parameter that names the file, or the directory it is in (sslcrldir).
    const given = paramsOf(url);
    const param = [...FILES, ...REVOCATION_PARAMS.map(([p]) => p)].find((p) => given.get(p) === err.path || (p === 'sslcrldir' && err.path!.startsWith(`${given.get(p)}/`)));
    const where = param === undefined ? 'a file' : paramsOf(named).has(param) ? param : `${param} (${FROM_ENVIRONMENT.find(([p]) => p === param)![1]})`;
    const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'EACCES' ? 'permission denied' : err.code;
    return new KeywardError('UNAVAILABLE', `The PostgreSQL store at ${redactUrl(named)} cannot be used: its ${where} ${err.path} cannot be read (${why}).`);
  }
  return new KeywardError('INVALID_INPUT', `The PostgreSQL store URL ${redactUrl(named)} cannot be used: ${err?.message ?? String(e)}`);
}
