// The store's client: node-postgres's, with three changes every connection
// the store opens (its pool's, its change feed's) needs:
// - where the URL's sslmode is prefer or allow, a TlsOrPlainConnection
//   (tls-or-plain.ts);
// - a connect that fails destroys its socket (see connect);
// - a standby is refused once connected, as libpq's
//   target_session_attrs=primary refuses it: Keyward reads and writes one
//   database, and its promise that a revoked key is refused everywhere within
//   a second holds only on the primary (a standby's copy may lag behind it).
//   PostgreSQL 14 and later say whether they are one as a session starts
//   (the in_hot_standby parameter), so nothing more is asked; an older
//   standby is met at the first change instead, read-only (sql.ts).

import pg from 'pg';
import { STANDBY } from './sql.js';
import { type DriverConnection, TlsOrPlainConnection } from './tls-or-plain.js';

/** The connection settings, with whether a server without TLS may be spoken to in plain text (connection.ts). */
export type KeywardClientConfig = pg.ClientConfig & { plainIfNoTls?: boolean };

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

  /**
   * node-postgres's connect, with the socket destroyed when it fails: a
   * failure raised in the client itself (no password to give, password.ts;
   * a SCRAM exchange it cannot finish) otherwise leaves the socket open
   * until the server's authentication_timeout (a minute) ends it, and the
   * command that failed waits that long to exit. A standby is refused once
   * connected (the session ended, the refusal sql.ts words).
   */
  override connect(): Promise<pg.Client>;
  override connect(callback: ((err: Error) => void) | ((err: null, c: pg.Client) => void)): void;
  override connect(callback?: ((err: Error) => void) | ((err: null, c: pg.Client) => void)): Promise<pg.Client> | void {
    const destroy = () => (this as unknown as { connection?: { stream?: { destroy?: () => void } } }).connection?.stream?.destroy?.();
    if (callback) {
      const told = callback as (err: Error | null, c?: pg.Client) => void;
      return super.connect(((err: Error | null, c?: pg.Client) => {
        if (err) destroy();
        const refusal = err ?? this.standbyRefusal();
        if (refusal !== err) void this.end().catch(() => undefined);
        told(refusal, refusal ? undefined : c);
      }) as (err: Error) => void);
    }
    return super.connect().then(
      async (c) => {
        const refusal = this.standbyRefusal();
        if (!refusal) return c;
        await this.end().catch(() => undefined);
        throw refusal;
      },
      (e: unknown) => {
        destroy();
        throw e;
      },
    );
  }

  constructor(config: KeywardClientConfig = {}) {
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
