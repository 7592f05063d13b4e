// The store's client: node-postgres's, with what every connection the store
// opens (its pool's, its change feed's) needs:
// - where the URL's sslmode is prefer or allow, a TlsOrPlainConnection
//   (tls-or-plain.ts);
// - a connect that fails destroys its socket (see connect);
// - a standby is refused once connected, as libpq's
//   target_session_attrs=primary refuses it: Keyward reads and writes one
//   database, and its promise that a revoked key is refused everywhere within
//   a second holds only on the primary (a standby's copy may lag behind it).
//   PostgreSQL 14 and later say whether they are one as a session starts
//   (the in_hot_standby parameter), so nothing more is asked; an older
//   standby is met at the first change instead, read-only (sql.ts);
// - where the URL names several hosts (host-list.ts), the one it connects to
//   is the primary among them (PrimaryChoice);
// - a pool's connection notes which server it reached (backend-fate.ts says
//   why).

import { randomInt } from 'node:crypto';
import pg from 'pg';
import { WHICH_BACKEND } from './backend-fate.js';
import { type Host } from './host-list.js';
import { NO_PRIMARY, SHARED_SESSION, STANDBY } from './sql.js';
import { type DriverConnection, TlsOrPlainConnection } from './tls-or-plain.js';

/** The connection settings, with whether a server without TLS may be spoken to in plain text (connection.ts). */
export type KeywardClientConfig = pg.ClientConfig & {
  plainIfNoTls?: boolean;
  primaryOf?: PrimaryChoice;
  knowsItsServer?: boolean;
  /** The URL's connect_timeout, in milliseconds (connection.ts connectTimeoutOf); Keyward's own bounds without it. */
  connectTimeoutMs?: number;
};

// How long a look at one host of the list may take at most, unless the URL's connect_timeout says: a host that
// does not answer (a machine gone, its packets dropped) must not hold a request past the pool's own 5 s wait.
const LOOK_MS = 2000;

/**
 * Which host of a URL's list is the primary: found by connecting to each in
 * the list's order until one is a primary that answers (libpq's order; with
 * load_balance_hosts=random, an order drawn for each look, as libpq draws
 * one for each connection: where several hosts reach the same primary — a
 * proxy on each of them — their connections are spread), and
 * kept for every connection the store opens after — one object for the
 * store's pool and its change feed — until a connection to it fails or finds
 * a standby (a failover): the next connection looks again. None found: a
 * refusal naming each host and why (sql.ts words it).
 */
export class PrimaryChoice {
  private found?: Host;
  private looking?: Promise<Host>;

  /** `random`: each look tries the hosts in an order of its own (libpq's load_balance_hosts=random), not the list's. */
  constructor(
    readonly hosts: readonly Host[],
    private readonly random = false,
  ) {}

  /** The host to connect to: the primary found last, or the one found now (one look at a time, shared). */
  primary(config: KeywardClientConfig): Promise<Host> {
    if (this.found) return Promise.resolve(this.found);
    this.looking ??= this.look(config).finally(() => (this.looking = undefined));
    return this.looking;
  }

  /** A connection to `host` failed, or found a standby there: the next one looks again. */
  lost(host: Host): void {
    if (this.found === host) this.found = undefined;
  }

  private async look(config: KeywardClientConfig): Promise<Host> {
    const reasons: string[] = [];
    for (const host of this.random ? shuffled(this.hosts) : this.hosts) {
      // The password is read by name: pg.Pool hands over settings whose password is not enumerable.
      const probe = new KeywardClient({ ...config, password: config.password, primaryOf: undefined, knowsItsServer: false, host: host.host, port: host.port, connectionTimeoutMillis: config.connectTimeoutMs ?? LOOK_MS });
      probe.on('error', () => undefined);
      try {
        await probe.connect();
        await probe.end().catch(() => undefined);
        this.found = host;
        return host;
      } catch (e) {
        reasons.push(`${hostText(host)}: ${reasonOf(e)}`);
      }
    }
    throw Object.assign(new Error('No host of the list is a primary that answers.'), { code: NO_PRIMARY, reasons: reasons.join('; ') });
  }
}

/** `hosts` in a random order (Fisher-Yates). */
function shuffled(hosts: readonly Host[]): Host[] {
  const out = [...hosts];
  for (let i = out.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

const hostText = (h: Host) => `${h.host.includes(':') ? `[${h.host}]` : h.host}:${h.port}`;

/** Why a host was not used, in words that carry no password (PostgreSQL's and Node's name the user and host at most). */
function reasonOf(e: unknown): string {
  const err = e as { code?: unknown; message?: unknown; severity?: unknown } | undefined;
  if (err?.code === STANDBY) return 'a standby';
  if (typeof err?.severity === 'string' && typeof err.message === 'string') return err.message;
  return typeof err?.code === 'string' ? err.code : typeof err?.message === 'string' ? err.message : 'no answer';
}

// The backends this process's pool connections have open, by server and pid ("STARTED PID"): one each (noteServer).
const openBackends = new Set<string>();

/** What node-postgres's Connection emits for each ParameterStatus message. */
interface ParameterStatus {
  parameterName: string;
  parameterValue: string;
}

/**
 * The store's client (above). The pool makes its connections with it
 * (pg.Pool's `Client`), and the change feed its LISTEN connection.
 */
export class KeywardClient extends pg.Client {
  /** Whether the server said, as the session started (or since), that it is a standby. */
  private inHotStandby = false;
  /** The server this connection reached, by its postmaster start time (with knowsItsServer; backend-fate.ts). */
  server?: string;
  /** The backend this connection reached, as it says (with knowsItsServer; backend-fate.ts WHICH_BACKEND). */
  backendPid?: number;

  /**
   * node-postgres's connect, with the socket destroyed when it fails: a
   * failure raised in the client itself (no password to give, password.ts;
   * a SCRAM exchange it cannot finish) otherwise leaves the socket open
   * until the server's authentication_timeout (a minute) ends it, and the
   * command that failed waits that long to exit. A standby is refused once
   * connected (the session ended, the refusal sql.ts words). Where the URL
   * names several hosts, to the primary among them (PrimaryChoice).
   */
  override connect(): Promise<pg.Client>;
  override connect(callback: ((err: Error) => void) | ((err: null, c: pg.Client) => void)): void;
  override connect(callback?: ((err: Error) => void) | ((err: null, c: pg.Client) => void)): Promise<pg.Client> | void {
    if (!callback) return this.connectToPrimary();
    const told = callback as (err: Error | null, c?: pg.Client) => void;
    this.connectToPrimary().then(
      (c) => told(null, c),
      (e: Error) => told(e),
    );
  }

  /** Connects to the primary of the URL's hosts (its one host, or PrimaryChoice's), refusing a standby. */
  private async connectToPrimary(): Promise<pg.Client> {
    const choice = this.config.primaryOf;
    const host = choice ? await choice.primary(this.config) : undefined;
    if (host) this.connectTo(host);
    try {
      await super.connect().catch((e: unknown) => {
        (this as unknown as { connection?: { stream?: { destroy?: () => void } } }).connection?.stream?.destroy?.();
        throw e;
      });
      const refusal = this.standbyRefusal();
      if (refusal) {
        await this.end().catch(() => undefined);
        throw refusal;
      }
      if (this.config.knowsItsServer) await this.noteServer();
      return this;
    } catch (e) {
      if (host) choice!.lost(host);
      throw e;
    }
  }

  /**
   * Asks which backend and server this is; a connection that cannot say is
   * ended and its failure thrown, as a failed connect's. One that reached a
   * backend another connection of this process has open is refused: only a
   * pooler that shares sessions between its clients (PgBouncer's transaction
   * or statement mode) puts two on one, and there statements prepared on a
   * session are found by others, and a LISTEN hears for whoever has it.
   */
  private async noteServer(): Promise<void> {
    try {
      const { started, pid } = (await this.query<{ started: string; pid: number }>(WHICH_BACKEND)).rows[0];
      const backend = `${started} ${pid}`;
      if (openBackends.has(backend)) throw Object.assign(new Error('Two connections reached one backend.'), { code: SHARED_SESSION });
      openBackends.add(backend);
      this.once('end', () => openBackends.delete(backend));
      [this.server, this.backendPid] = [started, pid];
    } catch (e) {
      await this.end().catch(() => undefined);
      throw e;
    }
  }

  /** Before connecting: to `host` instead of the URL's first host (node-postgres reads both fields as it connects; the password lookup, the second). */
  private connectTo(host: Host): void {
    const self = this as unknown as { host: string; port: number; connectionParameters: { host: string; port: number } };
    self.host = self.connectionParameters.host = host.host;
    self.port = self.connectionParameters.port = host.port;
  }

  constructor(private readonly config: KeywardClientConfig = {}) {
    // Handed on whole: pg.Pool makes the password of what it passes here not enumerable, so a copy would lose it.
    super(config);
    const self = this as unknown as { connectionParameters: { ssl: unknown; client_encoding?: string }; connection: DriverConnection };
    if (config.plainIfNoTls) {
      // Made as node-postgres's constructor makes its own (which is then not used: its socket never connects).
      self.connection = new TlsOrPlainConnection({
        stream: config.stream,
        ssl: self.connectionParameters.ssl,
        keepAlive: config.keepAlive || false,
        keepAliveInitialDelayMillis: config.keepAliveInitialDelayMillis || 0,
        encoding: self.connectionParameters.client_encoding || 'utf8',
      });
    }
    self.connection.on('parameterStatus', (m: ParameterStatus) => {
      if (m.parameterName === 'in_hot_standby') this.inHotStandby = m.parameterValue === 'on';
    });
  }

  /** The refusal of a session on a standby (sql.ts refusedBecause words it), or null. */
  private standbyRefusal(): Error | null {
    return this.inHotStandby ? Object.assign(new Error('The database is a standby server.'), { code: STANDBY }) : null;
  }
}
