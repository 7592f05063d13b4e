// `keyward serve`: one engine over one store for the life of the server, and
// plain node:http in front of it. Closing stops taking connections, lets the
// requests in flight finish (their handlers too, for a client that reset its
// connection), and then flushes the usage counted in memory.

import { type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Engine, KeywardError, type StoreAway, type WhenMissing, openEngine, safeJson } from '@keyward/core';
import { AuthFailureThrottle, DEFAULT_THROTTLE, type ThrottleOptions } from './auth.js';
import { handle } from './handle.js';
import type { LeakKeys } from './leak-signature.js';
import type { TrustedProxies } from './client-address.js';
import { stdoutLog } from './request-log.js';
import { HealthLog } from './health-log.js';
import { watchClock } from './clock-watch.js';
import { RequestMetrics } from './metrics.js';
import { router } from './routes/index.js';
import { errorReply } from './wire.js';

export interface ServerOptions {
  /** A path to a JSON store or a postgres:// URL. */
  storePath: string;
  /** When there is no store there: refused, saying to run `keyward init` on this host, unless told otherwise (`keyward serve` creates one on a first run). */
  missing?: WhenMissing;
  /** 127.0.0.1 unless told otherwise: exposing the API is a decision. */
  host?: string;
  /** 8787 by default; 0 picks a free port. */
  port?: number;
  /** Where the one-line-per-request JSON log goes; stdout by default. */
  log?: (line: string) => void;
  /** How often counted uses are written as events (and excessive use is looked for). */
  usageFlushMs?: number;
  /** How many failed authentications an address may have before it gets 429. */
  authThrottle?: ThrottleOptions;
  /** How long a request may take to arrive in full (408 after that); 30 s, the headers 20 s. */
  requestTimeoutMs?: number;
  /** The public keys that sign leak reports (GitHub's secret scanning); without them POST /api-keys/leaked answers 401. */
  leakKeys?: LeakKeys;
  /** Proxies whose X-Forwarded-For names the client (none by default: the socket's address is the client's). */
  trustProxy?: TrustedProxies;
  /** A PostgreSQL store's most connections (its pool; 10 by default). */
  dbConnections?: number;
  /** Given, GET /metrics answers on this port of the same host, in Prometheus' text format (metrics.ts); 0 picks a free port. */
  metricsPort?: number;
  /**
   * Given, a database that cannot answer as the server starts but is expected
   * back by itself (StoreAway) does not stop it: it listens, answers 503 until
   * the database answers, and this is told why. Without, refused.
   */
  whenStoreAway?: (why: StoreAway) => void;
  /**
   * Told when the server's clock is over a second from its database's, soon
   * after it starts or later, and when it is near again (clock-watch.ts):
   * each server decides expiry by its own clock.
   */
  whenClockOff?: (line: string) => void;
}

export interface RunningServer {
  url: string;
  port: number;
  /** Where GET /metrics answers (metricsPort), if anywhere. */
  metricsUrl?: string;
  /** Stops the server and flushes usage; safe to call more than once. */
  close(): Promise<void>;
}

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 8787;
// Requests in flight get this long to finish when the server closes.
const CLOSE_GRACE_MS = 5_000;
// How much a client whose request did not parse may still send, and for how long, after its 400.
const LINGER_BYTES = 16 * 1024 * 1024;
const LINGER_MS = 5_000;

function urlOf(host: string, port: number): string {
  const name = host.includes(':') ? `[${host}]` : host;
  return `http://${name}:${port}`;
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => {
      const why = e.code === 'EADDRINUSE' ? 'the port is in use' : e.code === 'EACCES' ? 'permission denied' : e.code === 'EADDRNOTAVAIL' ? 'no such address on this host' : e.message;
      reject(new KeywardError('UNAVAILABLE', `Cannot listen on ${urlOf(host, port)}: ${why}.`));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const host = opts.host ?? DEFAULT_HOST;
  const port = opts.port ?? DEFAULT_PORT;
  for (const p of [port, opts.metricsPort ?? 0]) if (!Number.isInteger(p) || p < 0 || p > 65535) throw new KeywardError('INVALID_INPUT', `The port must be a whole number from 0 to 65535, not ${p}.`);
  // Fail before listening when there is no store yet, it does not parse
  // (STORE_CORRUPT), or its database cannot be reached (UNAVAILABLE; unless
  // told to wait for it: whenStoreAway).
  const engine = await openEngine(opts.storePath, opts.missing ?? { advice: 'run `keyward init` on this host first' }, { usageFlushMs: opts.usageFlushMs }, { connections: opts.dbConnections }, opts.whenStoreAway);
  const stdout = opts.log ? undefined : stdoutLog();
  const log = opts.log ?? stdout!.log;
  const metrics = opts.metricsPort === undefined ? undefined : new RequestMetrics(() => handling.length);
  const ctx = { engine, router, throttle: new AuthFailureThrottle(opts.authThrottle ?? DEFAULT_THROTTLE), log, healthLog: new HealthLog(), url: urlOf(host, port), leakKeys: opts.leakKeys, trustProxy: opts.trustProxy, metrics };

  const requestTimeout = opts.requestTimeoutMs ?? 30_000;
  const timeouts = { requestTimeout, headersTimeout: Math.min(20_000, requestTimeout), connectionsCheckingInterval: Math.min(30_000, Math.max(100, requestTimeout / 4)) };
  // Requests being handled. A handler outlives its connection when the client resets it (a FIN leaves it half
  // open until the answer), and may count a use yet (a key read from the store): close() waits for them too.
  // An array, not a Set: with each ServerResponse a Set's key (V8 then gives it an identity hash),
  // GET /users/me ran at 44.9k req/s against 55.0k with this array (bench/http.ts --quick, same build
  // otherwise). It holds at most the requests in flight, so indexOf is a short scan.
  const handling: ServerResponse[] = [];
  let allHandled: (() => void) | undefined;
  let shuttingDown = false;
  const server = createServer({ ...timeouts, keepAliveTimeout: 5_000 }, (req, res) => {
    handling.push(res);
    if (shuttingDown) endsItsConnection(res);
    // handle() answers every failure itself; this only keeps a bug in it from taking the process down.
    handle(req, res, ctx).then(
      () => handled(res),
      (e: unknown) => {
        log(safeJson({ time: new Date().toISOString(), error: e instanceof Error ? e.message : String(e) }));
        res.destroy();
        handled(res);
      },
    );
  });
  const handled = (res: ServerResponse) => {
    const at = handling.indexOf(res);
    if (at < 0) return;
    handling[at] = handling[handling.length - 1];
    handling.pop();
    if (handling.length === 0) allHandled?.();
  };
  // A client that half-closes after its request (sends FIN, waits for the
  // answer) still gets it: by default Node aborts the request on FIN, which
  // only went unnoticed while a create answered before the FIN was read.
  (server as Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  // Requests Node cannot even parse get an answer in the API's shape too.
  const answered = new WeakSet<object>();
  server.on('clientError', (e: NodeJS.ErrnoException, socket) => {
    // The parser reports its error again for every chunk that follows; the answer has gone already.
    if (answered.has(socket)) return;
    if (!socket.writable || e.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    if (e.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      // In the API's error shape like every other answer, so a client can read why.
      const text = JSON.stringify(errorReply('REQUEST_TIMEOUT', 'The request took too long to arrive; send it again.').body);
      socket.end(`HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
      return;
    }
    const reply = errorReply('INVALID_INPUT', e.code === 'HPE_HEADER_OVERFLOW' ? 'The request headers are too large.' : 'The request is not valid HTTP.');
    const text = JSON.stringify(reply.body);
    answered.add(socket);
    socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
    // Keep reading (and dropping) what the client still sends until it hangs up:
    // closing with unread data would make the kernel reset the connection and
    // the answer would be lost. A client that keeps sending is cut off.
    let dropped = 0;
    socket.on('data', (chunk: Buffer) => {
      dropped += chunk.length;
      if (dropped > LINGER_BYTES) socket.destroy();
    });
    socket.resume();
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
  });

  const metricsServer = metrics && metricsListener(metrics, engine);
  try {
    await listen(server, host, port);
    if (metricsServer) await listen(metricsServer, host, opts.metricsPort!);
  } catch (e) {
    // The API's port may be taken already when the metrics' is refused: given back before this refuses.
    if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    metrics?.close();
    await engine.close();
    throw e;
  }
  const actualPort = (server.address() as AddressInfo).port;
  ctx.url = urlOf(host, actualPort);
  const metricsUrl = metricsServer && `${urlOf(host, (metricsServer.address() as AddressInfo).port)}/metrics`;

  const stopWatchingClock = opts.whenClockOff && watchClock(engine, opts.whenClockOff);
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      stopWatchingClock?.();
      // Every answer from now on ends its connection, so no kept-alive connection takes another request.
      shuttingDown = true;
      for (const res of handling) endsItsConnection(res);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const force = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
      force.unref();
      // The handlers get the same grace as the connections; the last flush (engine.close) comes after both.
      const handlersDone = new Promise<void>((resolve) => {
        allHandled = resolve;
        if (handling.length === 0) resolve();
        setTimeout(resolve, CLOSE_GRACE_MS).unref();
      });
      await closed;
      await handlersDone;
      clearTimeout(force);
      stdout?.flush();
      // Scraped until the API's last answer went out; a scrape under way gets its answer.
      if (metricsServer) {
        await new Promise<void>((resolve) => metricsServer.close(() => resolve()));
        metrics?.close();
      }
      await engine.close();
    })();
    return closing;
  };
  return { url: ctx.url, port: actualPort, ...(metricsUrl ? { metricsUrl } : {}), close };
}

/** The metrics' own server: GET /metrics and nothing else. */
function metricsListener(metrics: RequestMetrics, engine: Engine): Server {
  const server = createServer({ keepAliveTimeout: 5_000 }, (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const [status, headers, body] =
      path !== '/metrics'
        ? [404, { 'Content-Type': 'text/plain; charset=utf-8' }, 'Not found: metrics are at /metrics.\n']
        : req.method !== 'GET' && req.method !== 'HEAD'
          ? [405, { 'Content-Type': 'text/plain; charset=utf-8', Allow: 'GET' }, 'Only GET /metrics.\n']
          : [200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8', 'Cache-Control': 'no-store' }, metrics.text(engine.gauges())];
    res.writeHead(status, { ...headers, 'Content-Length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  // Whatever went wrong with one scrape's connection is that connection's alone.
  server.on('clientError', (_e, socket) => socket.destroy());
  return server;
}

/** `Connection: close` on an answer not yet begun: its connection ends once it is sent (gracefully, unlike closing an idle one). */
function endsItsConnection(res: ServerResponse): void {
  if (!res.headersSent) res.setHeader('Connection', 'close');
}

/** Closes the server (flushing usage) on the first SIGINT or SIGTERM; resolves with the signal once it is closed. */
export function closeOnSignals(server: RunningServer, signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM']): Promise<NodeJS.Signals> {
  return new Promise((resolve, reject) => {
    const on = (signal: NodeJS.Signals) => {
      for (const s of signals) process.off(s, on);
      server.close().then(() => resolve(signal), reject);
    };
    for (const s of signals) process.on(s, on);
  });
}
