// The route table's machinery: what a handler receives, and how a request
// path finds its handler. Literal routes are listed before routes with
// parameters, and a path is tried against each in turn until one of them
// takes the method, so `POST /api-keys/revoke` is the bulk revoke while
// `GET /api-keys/revoke` still reaches `GET /api-keys/{id}` (and is told
// that "revoke" is not a key id) rather than a puzzling 405.

import type { IncomingMessage } from 'node:http';
import { type Engine, KeywardError, type KeyService, clampLimit, printable } from '@keyward/core';
import type { LeakKeys } from './leak-signature.js';
import type { Reply } from './wire.js';

export const METHODS = ['GET', 'POST', 'PATCH', 'DELETE'] as const;
export type Method = (typeof METHODS)[number];

export interface Call {
  /** The engine's use cases as the authenticated user. */
  service: KeyService;
  /** Who the token belongs to. */
  user: string;
  engine: Engine;
  req: IncomingMessage;
  params: Record<string, string>;
  query: Query;
  /** An absolute link to this request with some query parameters changed (undefined removes one). */
  link(changes: Record<string, string | undefined>): string;
  /** `Prefer: return=representation`: answer a PATCH with the changed resource instead of 204. */
  wantsRepresentation: boolean;
}

export type Handler = (call: Call) => Promise<Reply>;

/** What a route that authenticates its requests itself (a signed leak report) receives: no bearer, no user. */
export interface OpenCall {
  engine: Engine;
  req: IncomingMessage;
  /** The public keys leak reports are signed with (`keyward serve --leak-keys`), if any. */
  leakKeys?: LeakKeys;
}

export type OpenHandler = (call: OpenCall) => Promise<Reply>;

export interface Route {
  path: string;
  methods: Partial<Record<Method, Handler>>;
  /** Handlers that take no bearer token and check the request's own signature instead. */
  open?: Partial<Record<Method, OpenHandler>>;
}

interface CompiledRoute extends Route {
  segments: string[];
}

// `route`: the path template that matched (`/api/v1/api-keys/:id`), what a server's metrics count requests by.
export type Match = { handler: Handler; params: Record<string, string>; route: string } | { open: OpenHandler; route: string } | { allowed: Method[]; route: string } | undefined;

// A literal route's handlers get no parameters: one frozen object for all of them.
const NO_PARAMS: Record<string, string> = Object.freeze({});

export class Router {
  private readonly routes: CompiledRoute[];
  // Literal routes by their path, each only if no route before it takes that path too: the busiest answers (GET /users/me) are found without walking the table.
  private readonly literal = new Map<string, Route>();

  constructor(routes: Route[]) {
    this.routes = routes.map((r) => ({ ...r, segments: r.path.split('/').slice(1) }));
    this.routes.forEach((r, i) => {
      if (!r.segments.some((s) => s.startsWith(':')) && !this.routes.slice(0, i).some((before) => matchSegments(before.segments, r.segments))) this.literal.set(r.path, r);
    });
  }

  /** match() for a raw request path (still %-escaped): a literal route that takes the method at once, else the walk through the table on the decoded segments. */
  matchPath(method: string, rawPath: string): Match {
    const r = rawPath.includes('%') ? undefined : this.literal.get(rawPath);
    return (r !== undefined && taking(r, method, NO_PARAMS)) || this.match(method, segmentsOf(rawPath));
  }

  /** The handler for a method and decoded path segments; the methods the path allows (405); or undefined (404). */
  match(method: string, segments: string[]): Match {
    let allowed: Set<Method> | undefined;
    let route = '';
    for (const r of this.routes) {
      const params = matchSegments(r.segments, segments);
      if (!params) continue;
      const taken = taking(r, method, params);
      if (taken) return taken;
      route ||= r.path;
      allowed ??= new Set();
      for (const m of [...Object.keys(r.methods), ...Object.keys(r.open ?? {})] as Method[]) allowed.add(m);
    }
    return allowed ? { allowed: METHODS.filter((m) => allowed.has(m)), route } : undefined;
  }
}

/** A request path's segments, %-decoded; a broken escape is the client's error. */
export function segmentsOf(rawPath: string): string[] {
  if (!rawPath.startsWith('/')) return [];
  if (!rawPath.includes('%')) return rawPath.slice(1).split('/');
  return rawPath
    .slice(1)
    .split('/')
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        throw new KeywardError('INVALID_INPUT', `The path has a broken %-escape in "${printable(s)}".`);
      }
    });
}

/** A route's answer to a method it takes (its own signature checked, or a bearer's), or undefined. */
function taking(r: Route, method: string, params: Record<string, string>): Match {
  const open = r.open && Object.hasOwn(r.open, method) ? r.open[method as Method] : undefined;
  if (open) return { open, route: r.path };
  const handler = Object.hasOwn(r.methods, method) ? r.methods[method as Method] : undefined;
  return handler ? { handler, params, route: r.path } : undefined;
}

function matchSegments(pattern: string[], path: string[]): Record<string, string> | undefined {
  if (pattern.length !== path.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i].startsWith(':')) params[pattern[i].slice(1)] = path[i];
    else if (pattern[i] !== path[i]) return undefined;
  }
  return params;
}

/** Query parameters, each given at most once. */
export class Query {
  constructor(readonly params: URLSearchParams) {}

  get(name: string): string | undefined {
    const all = this.params.getAll(name);
    if (all.length > 1) throw new KeywardError('INVALID_INPUT', `The query parameter ${name} is given ${all.length} times; give it once.`);
    return all[0];
  }

  /** `limit`, 1..max, the API's default when absent. */
  limit(fallback: number, max: number): number {
    const text = this.get('limit');
    return clampLimit(text === undefined ? undefined : Number(text), fallback, max);
  }

  /** A true/false parameter; absent is undefined. */
  flag(name: string): boolean | undefined {
    const text = this.get(name);
    if (text === undefined) return undefined;
    if (text === 'true' || text === 'false') return text === 'true';
    throw new KeywardError('INVALID_INPUT', `${name} must be true or false, not "${printable(text)}".`);
  }

  /** A whole number parameter; the engine checks its range. */
  integer(name: string): number | undefined {
    const text = this.get(name);
    if (text === undefined) return undefined;
    const n = Number(text);
    if (text.trim() === '' || !Number.isInteger(n)) throw new KeywardError('INVALID_INPUT', `${name} must be a whole number, not "${printable(text)}".`);
    return n;
  }

  /** startingAfter / endingBefore, refusing both at once (behaviour §3). */
  cursors(): { startingAfter?: string; endingBefore?: string } {
    const startingAfter = this.get('startingAfter');
    const endingBefore = this.get('endingBefore');
    if (startingAfter !== undefined && endingBefore !== undefined) throw new KeywardError('INVALID_INPUT', 'Use startingAfter or endingBefore, not both.');
    return { startingAfter, endingBefore };
  }
}
