// What every table module needs: something to run SQL on (the pool, or the
// client of one transaction), and the translation of a database fault into
// behaviour §5's UNAVAILABLE.

import { createHash } from 'node:crypto';
import type pg from 'pg';
import { KeywardError, StoreAway } from '../../refusal.js';

/** The pool or one checked-out client: table modules do not care which. */
export type Sql = Pick<pg.ClientBase, 'query'>;

// Statement names by text, for the whole process (every connection names a text alike).
const statementNames = new Map<string, string>();
// Texts are few (one per query shape); past this many, new ones go unnamed rather than pile up on every connection.
const MAX_NAMED = 500;
// A text whose plan went stale gets a new name (planGoneStale): its digest with the next of these.
let namesGiven = 0;

/**
 * `sql` with every statement that takes parameters sent as a named (prepared)
 * one: PostgreSQL parses and plans it once per connection, and from then on
 * only binds and runs it. Unnamed, each one was parsed and planned afresh —
 * most of PostgreSQL's CPU for Keyward's short reads, and a good part of
 * Node's too, on machines where the servers and the database share cores.
 * Statements without parameters (BEGIN, COMMIT, DDL) go as they are.
 *
 * A statement prepared before another server's migration changed what it
 * returns is refused by PostgreSQL on that connection for as long as the
 * connection lives ("cached plan must not change result type"). Its text
 * then gets a new name, which every connection prepares afresh; `askAgain`
 * (the pool: each statement stands alone) sends it again at once, while in
 * a transaction, aborted by the refusal, the store runs the transaction
 * again (isRetryable).
 *
 * A name is its text's digest (statementName): on any session it means the
 * same text in every Keyward process, of any version. Where a connection
 * pooler hands one client's statements to sessions other clients prepared
 * on (PgBouncer's pool_mode=transaction before 1.21), a name one process
 * gave to another text would run that text with this one's values —
 * another statement's write, unseen. With digests the session lacks the
 * name, or has it for the same text, and PostgreSQL refuses (sessionShared).
 */
export function prepared(sql: Sql, { askAgain }: { askAgain: boolean }): Sql {
  return new Prepared(sql, askAgain) as unknown as Sql;
}

/** prepared()'s answer: a class, since one is made for every transaction and every create sent whole (its method is made once). */
class Prepared {
  constructor(
    private readonly sql: Sql,
    private readonly askAgain: boolean,
  ) {}

  query(text: unknown, values?: unknown): Promise<pg.QueryResult> {
    if (typeof text !== 'string' || !Array.isArray(values)) return this.sql.query(text as string, values as unknown[]);
    let name = statementNames.get(text);
    if (name === undefined) {
      if (statementNames.size >= MAX_NAMED) return this.sql.query(text, values);
      name = statementName(text, namesGiven++);
      statementNames.set(text, name);
    }
    return this.sql.query({ name, text, values }).catch((e: unknown): Promise<pg.QueryResult> => {
      if (!planGoneStale(e)) throw e;
      if (statementNames.get(text) === name) statementNames.delete(text);
      if (!this.askAgain) throw e;
      return this.query(text, values);
    });
  }
}

/** The name `text` is prepared under: its digest, so one name is one text everywhere (prepared); `n` makes it new after a stale plan. */
export function statementName(text: string, n: number): string {
  // 24 hex digits (96 bits): collisions among a few hundred texts are out of reach; within NAMEDATALEN's 63 bytes.
  return `keyward_${createHash('sha256').update(text).digest('hex').slice(0, 24)}_${n}`;
}

/**
 * PostgreSQL's refusal of a statement of prepared()'s by name, as a session
 * of its own never refuses one: the session lacks the name this connection
 * prepared (26000), or has it already (42P05). The connection's statements
 * go to sessions other clients use too (a pooler's transaction mode), and
 * the statement refused was not run — nor was a transaction a pooler's
 * statement mode refused at its BEGIN; or a connection found a backend
 * another of this process's has open (KeywardClient), before it ran any.
 */
export function sessionShared(e: unknown): boolean {
  const err = e as { code?: unknown; message?: unknown } | undefined;
  if (err?.code === SHARED_SESSION) return true;
  if (typeof err?.message !== 'string') return false;
  // PgBouncer's statement mode ends the connection at BEGIN (08P01), saying so.
  if (err.code === '08P01') return /not allowed in statement pooling mode/.test(err.message);
  return (err.code === '26000' || err.code === '42P05') && /prepared statement "keyward_/.test(err.message);
}

/** PostgreSQL's refusal of a prepared statement whose result's shape a schema change altered. */
function planGoneStale(e: unknown): boolean {
  const err = e as { code?: string; message?: string } | undefined;
  return err?.code === '0A000' && /cached plan must not change result type/.test(err.message ?? '');
}

/** How a read inside a transaction holds what it read until commit (see store.ts). */
export type RowLock = '' | 'FOR SHARE' | 'FOR UPDATE';

/** The schema every table lives in, so Keyward shares a database with nothing by accident. */
export const SCHEMA = 'keyward';

/**
 * The collation Keyward folds case with (migration 14 makes it), the first
 * the server has of: pg_unicode_fast (PostgreSQL 18), ICU's root locale
 * (und-x-icu), pg_c_utf8 (17). The first two lower text as the engine's
 * toLowerCase does, full case mapping and final sigma included, so a
 * search finds in PostgreSQL what it finds in the JSON store; pg_c_utf8
 * maps one character to one (ΟΔΟΣ lowers to οδοσ, not οδος), the best a
 * PostgreSQL 17 without ICU has. "C" would fold ASCII alone.
 */
export const FOLD = `${SCHEMA}.fold`;

/**
 * `column` case-folded, compared by code point whatever the fold's own
 * order (ICU's is a language's): how descriptions and owners are searched
 * and descriptions sorted. The description index is on this very text
 * (migration 14), so a query must spell it the same to be served by it.
 */
export function folded(column: string): string {
  return `(lower(${column} COLLATE ${FOLD}) COLLATE "C")`;
}

/**
 * What a search looks in, as one text: a key's folded description and its
 * folded owner (`k`: the keys table's alias, or '' in the index). The search
 * index (migration 15) holds this text's trigrams, so a query must spell it
 * the same to be served by it; a search found in either is found in this
 * text too, and the two themselves decide. Ids are not in it: they are
 * random hexadecimal, each trigram of each a new entry, which tripled what
 * the index cost a create (bench/search-probe.ts); a search that may be in
 * an id (token.ts mayBeInKeyId) looks for it among the ids apart.
 */
export function searchedText(k: string): string {
  const p = k ? `${k}.` : '';
  return `(${folded(`${p}description`)} || ' ' || ${folded(`${p}owner`)})`;
}

// SQLSTATE classes and codes that mean "the database cannot be reached or
// cannot answer now", as opposed to a mistake in what we asked — 25006 too:
// a database that takes no changes now (a standby older than PostgreSQL 14,
// which KeywardClient cannot tell at connect; default_transaction_read_only
// turned on, as a managed database does when its disk is full). A session
// that began read-only stays so after the database is writable again
// (ALTER DATABASE … RESET reaches only new sessions), so its connection is
// thrown away like a broken one, and the change tried on another.
const UNAVAILABLE_STATES = /^(08|53|57P0[1-4]|58|25006$)/;
const READ_ONLY = '25006';
// No connection to spare: max_connections, or a role's or database's CONNECTION LIMIT, reached.
const TOO_MANY_CONNECTIONS = '53300';
// A statement the database cancelled: a statement_timeout (57014) or lock_timeout (55P03) set for the role or
// database ran out — most often waiting at a row another session held —, or an administrator cancelled it.
// As a fault of the connection, a COMMIT cancelled as it committed is asked after (its answer says nothing
// of whether it committed); but a change cancelled before its COMMIT is not run again (cancelled, below).
const CANCELLED = new Set(['57014', '55P03']);
const NETWORK_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/** The code of KeywardClient's refusal of a session on a standby (keyward-client.ts). */
export const STANDBY = 'KEYWARD_STANDBY';
/** The code of KeywardClient's refusal of a connection that reached a backend another of this process's has open (keyward-client.ts). */
export const SHARED_SESSION = 'KEYWARD_SHARED_SESSION';
/** The code of PrimaryChoice's refusal when no host of a URL's list is a primary that answers (its `reasons`: each host's). */
export const NO_PRIMARY = 'KEYWARD_NO_PRIMARY';

// Node's codes for a server certificate the TLS check did not accept (OpenSSL's verify errors, the host name check).
const CERTIFICATE_REFUSED = /^(UNABLE_TO_|SELF_SIGNED_CERT|DEPTH_ZERO_SELF_SIGNED_CERT|CERT_|INVALID_CA|INVALID_PURPOSE|PATH_LENGTH_EXCEEDED)/;
// Of those, the revocation lists' (the URL's sslcrl or sslcrldir: revocation-lists.ts): the certificate is revoked,
// or a certificate of its chain has no list there that can be used.
const REVOKED = 'CERT_REVOKED';
const REVOCATION_UNKNOWN = /^(UNABLE_TO_GET_CRL|UNABLE_TO_DECRYPT_CRL_SIGNATURE|CRL_)/;
// Of those, the host name check's (the chain was accepted).
const HOST_NOT_NAMED = /^(HOSTNAME_MISMATCH|ERR_TLS_CERT_ALTNAME_INVALID)/;

/**
 * Why the connection itself was refused, when it was: by PostgreSQL (SQLSTATE
 * class 28: pg_hba.conf, the password), by the TLS check of the database's
 * certificate, or for want of TLS on one side. Nothing was sent; a setting
 * is to be put right, so the sentence says which, in words that carry no
 * password (PostgreSQL's and Node's own name the user, database and host).
 */
function refusedBecause(e: unknown): string | undefined {
  const err = e as { code?: unknown; message?: unknown; severity?: unknown } | undefined;
  const code = typeof err?.code === 'string' ? err.code : '';
  const message = typeof err?.message === 'string' ? err.message : '';
  // PostgreSQL's own answer as the session starts: no database of the URL's name (3D000), no CONNECT on it (42501).
  if (err?.severity === 'FATAL' && code === '3D000') return `refused the connection: ${message} (create it — createdb, or CREATE DATABASE — or check the database name in the URL)`;
  if (err?.severity === 'FATAL' && code === '42501') return `refused the connection: ${message}`;
  // The session started, and a statement was refused a privilege (42501): the role lacks one Keyward needs, whatever it asked.
  if (privilegeRefused(e)) {
    return `refused a privilege Keyward needs to the role the URL signs in as (${message}): Keyward makes and owns its schema "keyward" (CREATE on the database, for \`keyward init\` and each upgrade) and reads and writes its tables; sign in as the database's owner, or grant the role those privileges`;
  }
  // PostgreSQL's own answer (it has a severity), its SQLSTATE in class 28.
  if (typeof err?.severity === 'string' && /^28[0-9A-Z]{3}$/.test(code)) {
    // A database that takes TLS only, asked without: say how to ask for it.
    const hint = /no encryption/.test(message) ? ' (it takes TLS connections only: set sslmode=require, or verify-full with sslrootcert, in the URL)' : '';
    return `refused the connection: ${message}${hint}`;
  }
  // The CA is right, the host is not the certificate's: the URL names the database by an address or tunnel.
  if (HOST_NOT_NAMED.test(code)) {
    return `presented a TLS certificate for another host name (${message}): name the database in the URL by a host its certificate names, or use sslmode=verify-ca to check only the CA that signed it`;
  }
  if (code === REVOKED) {
    return `presented a TLS certificate that its CA has revoked (${message}: a list the URL's sslcrl or sslcrldir names holds it): the database needs a new certificate`;
  }
  if (REVOCATION_UNKNOWN.test(code)) {
    return `presented a TLS certificate whose revocation cannot be checked (${message}): the URL's sslcrl or sslcrldir needs a current list from each CA of its chain`;
  }
  if (CERTIFICATE_REFUSED.test(code)) {
    return `presented a TLS certificate that was not accepted (${message}): check that the URL's sslrootcert names the CA that signed it, and its sslmode`;
  }
  if (code === NO_PRIMARY) {
    const reasons = typeof (err as { reasons?: unknown }).reasons === 'string' ? ` (${(err as { reasons: string }).reasons})` : '';
    return `has no host that is a primary answering now${reasons}; Keyward needs the primary: if a failover is under way, try again shortly`;
  }
  if (sessionShared(e)) {
    return "is reached through a connection pooler that shares database sessions between its clients (PgBouncer's pool_mode=transaction or statement): Keyward needs sessions of its own, for its prepared statements and for LISTEN, which tells every server of a revocation at once; point the URL at the database itself, or at a pool in session mode (pool_mode=session)";
  }
  if (code === STANDBY) {
    return 'is a standby server (read-only, and behind its primary); Keyward needs the primary, where every change is made and every revocation seen at once: point the URL at it, or at an address that follows it through a failover (if one is under way, try again shortly)';
  }
  if (code.startsWith('ERR_SSL_')) return `could not set up TLS (${code})`;
  if (/server does not support SSL connections/.test(message)) return 'does not take TLS connections, which the URL\'s sslmode asks for';
  return undefined;
}

/** A statement the database cancelled (CANCELLED): not run again before its COMMIT, which would wait the limit out again. */
export function cancelled(e: unknown): boolean {
  const code = (e as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && CANCELLED.has(code);
}

/**
 * A statement refused a privilege once the session started (42501): the
 * role lacks one Keyward needs. Told as UNAVAILABLE (refusedBecause words
 * it), but not a fault of the connection: not tried again on another, which
 * the same role would be refused on too.
 */
export function privilegeRefused(e: unknown): boolean {
  const err = e as { code?: unknown; severity?: unknown } | undefined;
  return err?.severity === 'ERROR' && err.code === '42501';
}

export function isUnavailable(e: unknown): boolean {
  if (e instanceof KeywardError) return e.code === 'UNAVAILABLE';
  const err = e as { code?: string; message?: string } | undefined;
  if (!err || privilegeRefused(e)) return false;
  if (refusedBecause(e) !== undefined) return true;
  if (typeof err.code === 'string' && (NETWORK_ERRORS.has(err.code) || UNAVAILABLE_STATES.test(err.code) || CANCELLED.has(err.code))) return true;
  const m = typeof err.message === 'string' ? err.message : '';
  // 'Query read timeout': node-postgres's query_timeout ran out (no code) — a lock held by a stuck session, a database not answering.
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended|not queryable|Query read timeout/i.test(m);
}

/**
 * A database fault as a refusal people understand. The message names where,
 * never the password (it is built from `location`), and never echoes SQL.
 */
export function unavailable(location: string, e: unknown): KeywardError {
  if (e instanceof KeywardError) return e;
  const refused = refusedBecause(e);
  // Refused for a standby, or no primary among the hosts: a failover, expected to end by itself.
  if (refused) {
    const message = `The PostgreSQL store at ${location} ${refused}; nothing was changed.`;
    const failover = [STANDBY, NO_PRIMARY].includes((e as { code?: string })?.code ?? '');
    return failover ? new StoreAway(message) : new KeywardError('UNAVAILABLE', message);
  }
  const reason = (e as { code?: string })?.code ?? 'no answer';
  // The database's own words after the code, where they say which limit (never SQL, never the password).
  const said = typeof (e as { message?: unknown })?.message === 'string' ? `: ${(e as { message: string }).message}` : '';
  if (reason === TOO_MANY_CONNECTIONS) {
    return new StoreAway(
      `The PostgreSQL store at ${location} has no connection to spare (${reason}${said}); nothing was changed. Try again shortly; if it recurs, the servers together may hold more connections than the database (or the role's or database's CONNECTION LIMIT) allows: give each fewer (keyward serve --db-connections N), or allow more.`,
    );
  }
  if (CANCELLED.has(reason)) {
    return new StoreAway(
      `The PostgreSQL store at ${location} cancelled what Keyward asked of it (${reason}${said}): a statement_timeout or lock_timeout set for its role or database ran out, most often while another session held a row Keyward needed; nothing was changed. Try again shortly; if it recurs, look for a session holding locks (pg_locks), or raise the limit for the role Keyward signs in as.`,
    );
  }
  if (reason === READ_ONLY) {
    return new KeywardError('UNAVAILABLE', `The PostgreSQL store at ${location} takes no changes right now: it answers that it is read-only (default_transaction_read_only is on, or it is a standby); nothing was changed. Try again once it takes changes.`);
  }
  return new StoreAway(`The PostgreSQL store at ${location} cannot be reached right now (${reason}); nothing was changed. Try again shortly.`);
}

/**
 * A change sent to the database whose answer was lost, while whether it
 * committed cannot be learnt (the database not answering): UNAVAILABLE would
 * say nothing was changed, and the caller would make it again. `what`: the
 * new key, or the change.
 */
export function outcomeUnknown(location: string, what: 'the new key' | 'the change'): KeywardError {
  const advice = what === 'the new key' ? 'list your keys before making it again' : 'look before making it again';
  return new KeywardError(
    'OUTCOME_UNKNOWN',
    `The PostgreSQL store at ${location} stopped answering after ${what} was sent to it, so whether it was made is not known; ${advice}.`,
  );
}

/** Serialization failures, deadlocks and a statement prepared before a migration: the transaction can simply run again. */
export function isRetryable(e: unknown): boolean {
  const code = (e as { code?: string })?.code;
  return code === '40001' || code === '40P01' || planGoneStale(e);
}

/** Epoch ms from a timestamptz column (pg hands back a Date). */
export function ms(v: Date | string | number | null | undefined): number | undefined {
  if (v === null || v === undefined) return undefined;
  if (v instanceof Date) return v.getTime();
  return typeof v === 'number' ? v : Date.parse(v);
}

/** Escapes LIKE's wildcards so a search for "50%" finds "50%". */
export function likeContains(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * A connection taken from the pool for a transaction. While it is out, a
 * fault of its socket (the database shutting down: 57P01) arrives as an
 * 'error' event that nothing else listens to — unheard, it would end the
 * process. Heard here, the query in flight fails with it (UNAVAILABLE) and
 * the connection is thrown away rather than given back.
 */
export async function checkout(pool: pg.Pool): Promise<{ client: pg.PoolClient; release(broken: boolean): void }> {
  const client = await pool.connect();
  let faulted = false;
  const onError = () => {
    faulted = true;
  };
  client.on('error', onError);
  return {
    client,
    release(broken) {
      client.off('error', onError);
      client.release(broken || faulted);
    },
  };
}
