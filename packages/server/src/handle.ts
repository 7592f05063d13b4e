// The life of one request: find the route (404, 405), authenticate the
// bearer on the engine's hot path (401, 429), run the handler as the token's
// owner, and answer — every failure in the error shape, a 5xx only for the
// server's own trouble, and one log line as the answer goes out.

import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { API_ROOT, type Engine, type KeyService, KeywardError, ROUTES, type VerifyOutcome, type WireErrors, printable, safeJson } from '@keyward/core';
import { type AuthFailureThrottle, bearerOf, refusalText } from './auth.js';
import type { HealthLog } from './health-log.js';
import type { LeakKeys } from './leak-signature.js';
import { type TrustedProxies, clientAddress } from './client-address.js';
import { drained } from './body.js';
import { type RequestLogEntry, logTime, loggablePath, loggableQuery, requestIdOf } from './request-log.js';
import { type RequestMetrics, UNMATCHED } from './metrics.js';
import { type Call, type Handler, type OpenHandler, Query, type Router } from './router.js';
import { type Reply, errorReply, send } from './wire.js';

export interface ServerContext {
  engine: Engine;
  router: Router;
  throttle: AuthFailureThrottle;
  log: (line: string) => void;
  /** Which health checks the log is told of (a load balancer asks every few seconds). */
  healthLog: HealthLog;
  /** The server's own URL, for links when a request has no usable Host header. */
  url: string;
  leakKeys?: LeakKeys;
  /** Proxies whose X-Forwarded-For is believed (`--trust-proxy`). */
  trustProxy?: TrustedProxies;
  /** Counts each answer by route, method and status (`--metrics-port`); absent, nothing is counted. */
  metrics?: RequestMetrics;
}

/** What answering a request found out on the way, for its answer's headers and the metrics. */
interface Found {
  /** The authenticated key's expiry (a header says it). */
  expiry?: string;
  /** The route template matched. */
  route?: string;
}

interface Target {
  rawPath: string;
  search: string;
}

function splitTarget(url: string): { rawPath: string; search: string } {
  let target = url;
  // Absolute form (GET http://host/path), which HTTP/1.1 servers must accept.
  if (!target.startsWith('/') && /^https?:\/\//i.test(target)) {
    try {
      const u = new URL(target);
      target = u.pathname + u.search;
    } catch {
      target = '/';
    }
  }
  const q = target.indexOf('?');
  return q < 0 ? { rawPath: target, search: '' } : { rawPath: target.slice(0, q), search: target.slice(q + 1) };
}

function originOf(req: IncomingMessage, ctx: ServerContext): string {
  const host = req.headers.host;
  const proto = req.headers['x-forwarded-proto'] === 'https' ? 'https' : 'http';
  return host && /^[A-Za-z0-9.:[\]-]{1,255}$/.test(host) ? `${proto}://${host}` : ctx.url;
}

/** What a handler gets; the query is parsed only if the handler reads it. */
class RequestCall implements Call {
  private parsedQuery?: Query;
  private origin?: string;

  constructor(
    readonly service: KeyService,
    readonly user: string,
    private readonly ctx: ServerContext,
    readonly req: IncomingMessage,
    readonly params: Record<string, string>,
    private readonly target: Target,
  ) {}

  get engine(): Engine {
    return this.ctx.engine;
  }

  get query(): Query {
    this.parsedQuery ??= new Query(new URLSearchParams(this.target.search));
    return this.parsedQuery;
  }

  get wantsRepresentation(): boolean {
    return /\breturn=representation\b/.test(String(this.req.headers.prefer ?? ''));
  }

  link(changes: Record<string, string | undefined>): string {
    const params = new URLSearchParams(this.target.search);
    // Object.keys, not Object.entries: a list page's links (self, next) took V8's slow path for entries.
    for (const k of Object.keys(changes)) {
      const v = changes[k];
      if (v === undefined) params.delete(k);
      else params.set(k, v);
    }
    const qs = params.toString();
    // One origin for all of a page's links.
    this.origin ??= originOf(this.req, this.ctx);
    return `${this.origin}${this.target.rawPath}${qs ? `?${qs}` : ''}`;
  }
}

/** Not async: it hands back the handler's own promise (or a reply), saving the extra turns an async wrapper costs per request. */
function answer(req: IncomingMessage, target: Target, entry: RequestLogEntry, ctx: ServerContext, seen: Found): Reply | Promise<Reply> {
  const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
  const found = ctx.router.matchPath(method, target.rawPath);
  if (!found) throw new KeywardError('NOT_FOUND', `There is no ${printable(method, 10)} ${printable(entry.path, 80)}; the API lives under ${API_ROOT}.`);
  seen.route = found.route;
  if ('allowed' in found) {
    const allow = found.allowed.join(', ');
    return errorReply('METHOD_NOT_ALLOWED', `${printable(method, 10)} is not allowed on ${printable(entry.path, 80)}; use ${allow}.`, { Allow: allow });
  }
  if ('open' in found) return answerOpen(found.open, req, entry, ctx);

  const token = bearerOf(req);
  // The hot path: parse, a cache lookup by id, one hash; uses and failures are counted in memory.
  // Synchronous on a cache hit; only a key not yet cached waits on the store.
  const outcome = token === undefined ? undefined : ctx.engine.verify(token, clientAddress(req, ctx.trustProxy));
  if (outcome instanceof Promise) return outcome.then((o) => authenticated(req, target, found, entry, ctx, seen, token, o));
  return authenticated(req, target, found, entry, ctx, seen, token, outcome);
}

function authenticated(req: IncomingMessage, target: Target, found: { handler: Handler; params: Record<string, string> }, entry: RequestLogEntry, ctx: ServerContext, seen: Found, token: string | undefined, outcome: VerifyOutcome | undefined): Reply | Promise<Reply> {
  if (!outcome?.valid) {
    const wait = ctx.throttle.fail(entry.addr ?? 'unknown', Date.now());
    if (wait > 0) return errorReply('TOO_MANY_REQUESTS', `Too many failed authentications from this address; try again in ${wait} s.`, { 'Retry-After': String(wait) });
    const challenge = token === undefined ? 'Bearer realm="keyward"' : 'Bearer realm="keyward", error="invalid_token"';
    return errorReply('UNAUTHENTICATED', refusalText(outcome), { 'WWW-Authenticate': challenge });
  }
  entry.user = outcome.key.owner;
  entry.key = outcome.key.id;
  seen.expiry = outcome.key.expiry;

  const call = new RequestCall(ctx.engine.as(outcome.key.owner), outcome.key.owner, ctx, req, found.params, target);
  return found.handler(call);
}

/** A route that checks its own signature: its failures to authenticate are slowed down like a bad bearer's. */
async function answerOpen(handler: OpenHandler, req: IncomingMessage, entry: RequestLogEntry, ctx: ServerContext): Promise<Reply> {
  try {
    return await handler({ engine: ctx.engine, req, leakKeys: ctx.leakKeys });
  } catch (e) {
    if (e instanceof KeywardError && e.code === 'UNAUTHENTICATED') {
      const wait = ctx.throttle.fail(entry.addr ?? 'unknown', Date.now());
      if (wait > 0) return errorReply('TOO_MANY_REQUESTS', `Too many failed authentications from this address; try again in ${wait} s.`, { 'Retry-After': String(wait) });
    }
    throw e;
  }
}

function failure(e: unknown, entry: RequestLogEntry): Reply {
  if (e instanceof KeywardError && e.status < 500) return errorReply(e.code, e.message);
  // The server's own trouble: the details (paths, causes) go to its log, not to the client, who is given
  // the request's id to find them there by (its own, or one made now: X-Request-Id on the answer too).
  entry.error = e instanceof Error ? e.message : String(e);
  const id = (entry.requestId ??= randomUUID());
  if (e instanceof KeywardError && e.code === 'STORE_CORRUPT') return errorReply('STORE_CORRUPT', `The server's store cannot be read; its log says why (request ${id}).`);
  // Retry-After: the store is expected back (a database restarting); clients retry instead of giving up.
  if (e instanceof KeywardError && e.code === 'UNAVAILABLE') return errorReply('UNAVAILABLE', `The server's store is unavailable right now; try again, or see the server's log (request ${id}).`, { 'Retry-After': '1' });
  // No Retry-After: trying again blindly could make a second key.
  if (e instanceof KeywardError && e.code === 'OUTCOME_UNKNOWN') return errorReply('OUTCOME_UNKNOWN', `The server's store stopped answering after the change was sent to it, so whether it was made is not known; look (list your keys) before trying again (request ${id}).`);
  return errorReply('INTERNAL', `The server failed to answer; its log says why (request ${id}).`);
}

export async function handle(req: IncomingMessage, res: ServerResponse, ctx: ServerContext): Promise<void> {
  const started = performance.now();
  const { rawPath, search } = splitTarget(req.url ?? '/');
  const entry: RequestLogEntry = {
    time: logTime(),
    method: /^[A-Z]{1,10}$/.test(req.method ?? '') ? req.method! : printable(req.method ?? '', 10),
    path: loggablePath(rawPath),
    status: 0,
    ms: 0,
    addr: req.socket.remoteAddress,
  };
  const query = loggableQuery(search);
  if (query) entry.query = query;
  const requestId = requestIdOf(req.headers['x-request-id']);
  if (requestId !== undefined) entry.requestId = requestId;
  let reply: Reply;
  const seen: Found = {};
  try {
    reply = await answer(req, { rawPath, search }, entry, ctx, seen);
  } catch (e) {
    reply = failure(e, entry);
  }
  if (reply.status >= 400) entry.code = (reply.body as WireErrors | undefined)?.errors?.[0]?.code;
  // An answer given before the body was read must not be lost to a reset.
  if (!req.complete) await drained(req);
  // The client may have gone while the handler ran; then nothing is sent.
  if (res.destroyed) entry.aborted = true;
  send(res, reply, seen.expiry, entry.requestId);
  entry.status = reply.status;
  entry.ms = Math.round((performance.now() - started) * 100) / 100;
  ctx.metrics?.observe(seen.route ?? UNMATCHED, entry.method, reply.status, entry.ms / 1000);
  if ((entry.path === ROUTES.health || entry.path === ROUTES.live) && !ctx.healthLog.worthLogging(entry.path, reply.status)) return;
  try {
    // safeJson: a query's names are the client's text, and the log is often read on a terminal.
    ctx.log(safeJson(entry));
  } catch {
    // a broken log sink must not take the server down
  }
}
