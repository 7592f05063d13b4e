// libpq's URL with several hosts — postgres://USER@db1:5432,db2:5432/DB —
// as a database pair (Patroni, a primary and its standby) is named: libpq
// tries them in order and uses the first that fits target_session_attrs.
// Neither node-postgres nor WHATWG URL parses such a URL, so it is read here:
// the host list taken out (hostsOf), the URL with its first host alone
// handed on to the parsers (withFirstHost), and put back for messages
// (redactUrl, url.ts). Which host a connection goes to is chosen in
// keyward-client.ts: the primary, the only one Keyward uses.

/** One host of the list: a name or an address, and its port. */
export interface Host {
  host: string;
  port: number;
}

const DEFAULT_PORT = 5432;

// scheme://[userinfo@]HOSTS[/path][?query]: the authority ends at the first '/', '?' or '#'.
const AUTHORITY = /^(postgres(?:ql)?:\/\/)([^/?#]*)(.*)$/is;

/** The authority's host list as written (`db1:5432,db2`), and what comes before and after it. */
function split(url: string): { before: string; hosts: string; after: string } | undefined {
  const m = AUTHORITY.exec(url);
  if (!m) return undefined;
  const at = m[2].lastIndexOf('@');
  return { before: m[1] + m[2].slice(0, at + 1), hosts: m[2].slice(at + 1), after: m[3] };
}

/** `db1:5432` or `[::1]:5433` as a host and port (the default port where none is given). */
function hostOf(text: string): Host {
  const m = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(text);
  if (!m) throw new Error(`"${text}" is not a host, or a host and port`);
  const host = decodeURIComponent(m[1].replace(/^\[(.*)\]$/, '$1'));
  const port = m[2] ? Number(m[2]) : DEFAULT_PORT;
  if (!host) throw new Error('a host of the list is empty');
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`the port of ${host} is not a port number`);
  return { host, port };
}

/** The hosts a URL names, when it names more than one (libpq's `host1:port1,host2:port2`); undefined otherwise. */
export function hostsOf(url: string): Host[] | undefined {
  const parts = split(url);
  if (!parts?.hosts.includes(',')) return undefined;
  return parts.hosts.split(',').map(hostOf);
}

/** The URL with its first host alone, for the parsers that take one (the list itself: hostsOf). */
export function withFirstHost(url: string): string {
  const parts = split(url);
  if (!parts?.hosts.includes(',')) return url;
  return parts.before + parts.hosts.slice(0, parts.hosts.indexOf(',')) + parts.after;
}

/** `shown` (withFirstHost's URL, made safe to show) with the host list of `url` back in place of its first host. */
export function withHostsOf(url: string, shown: string): string {
  const parts = split(url);
  const into = split(shown);
  if (!parts?.hosts.includes(',') || !into) return shown;
  return into.before + parts.hosts + into.after;
}
