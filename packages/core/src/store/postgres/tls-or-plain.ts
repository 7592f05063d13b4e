// libpq's sslmode=prefer and sslmode=allow: encrypt where the server can,
// and where it answers that it has no TLS, go on in plain text on the same
// socket. node-postgres instead ends the socket on that answer ('N' to the
// SSLRequest), so a URL libpq connects with (prefer is libpq's default, and
// a URL copied from a tool's docs often says so) was refused here.
//
// Both modes ask for TLS first. libpq's allow asks for plain text first and
// TLS only if the server refuses it; asking for TLS first connects wherever
// that does, and encrypts where both are possible. The certificate is not
// checked in either mode, as in libpq.
//
// The one change is to node-postgres's Connection.connect, for these modes
// only: its SSLRequest answer handled as libpq handles it. The rest of that
// method is node-postgres 8's, as is the `attachListeners`/`upgradeToSSL`
// pair it calls (test/postgres-tls.pg.test.ts runs both answers against a
// real server, so a driver that changes them fails there). KeywardClient
// (keyward-client.ts) makes it where the URL's sslmode is prefer or allow.

import pg from 'pg';

type Stream = NodeJS.EventEmitter & {
  setNoDelay(on: boolean): void;
  connect(port: number | string, host?: string): void;
  setKeepAlive(on: boolean, delay?: number): void;
  end(): void;
};

/** node-postgres's Connection as this file uses it (its fields and the two methods it calls are not in its types). */
export interface DriverConnection extends NodeJS.EventEmitter {
  connect(port: number | string, host?: string): void;
  stream: Stream;
  ssl: unknown;
  _connecting: boolean;
  _ending: boolean;
  _keepAlive: boolean;
  _keepAliveInitialDelayMillis: number;
  attachListeners(stream: Stream): void;
  upgradeToSSL(host: string | undefined, reportStreamError: (e: NodeJS.ErrnoException) => void): void;
}

const Connection = (pg as unknown as { Connection: new (config: object) => DriverConnection }).Connection;

/** A Connection whose SSLRequest, answered 'N', goes on in plain text (the client then sends its startup, as after TLS). */
export class TlsOrPlainConnection extends Connection {
  connect(port: number | string, host?: string): void {
    // Made only where TLS is asked for (KeywardClient); without it, node-postgres's own.
    if (!this.ssl) return super.connect(port, host);
    this._connecting = true;
    this.stream.setNoDelay(true);
    this.stream.connect(port, host);
    this.stream.once('connect', () => {
      if (this._keepAlive) this.stream.setKeepAlive(true, this._keepAliveInitialDelayMillis);
      this.emit('connect');
    });
    const reportStreamError = (error: NodeJS.ErrnoException) => {
      // Errors about disconnecting are ignored while ending (as node-postgres does).
      if (this._ending && (error.code === 'ECONNRESET' || error.code === 'EPIPE')) return;
      this.emit('error', error);
    };
    this.stream.on('error', reportStreamError);
    this.stream.on('close', () => this.emit('end'));
    this.stream.once('data', (answer: Buffer) => {
      const code = answer.toString('utf8');
      if (code === 'S') return this.upgradeToSSL(host, reportStreamError);
      if (code === 'N') {
        // No TLS on this server: the same socket, in plain text. The client sends its startup on 'sslconnect'.
        this.ssl = false;
        this.attachListeners(this.stream);
        return this.emit('sslconnect');
      }
      this.stream.end();
      this.emit('error', new Error('There was an error establishing an SSL connection'));
    });
  }
}
