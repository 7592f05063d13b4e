// One JSON line per request: when, what, how it ended, who asked. Never a
// token: the Authorization header is not logged, path segments that look
// like a token are masked, and of the query only the parameter names appear.

import { type ErrorCode, TOKEN_PREFIX } from '@keyward/core';

export interface RequestLogEntry {
  time: string;
  method: string;
  path: string;
  query?: string;
  status: number;
  ms: number;
  addr?: string;
  user?: string;
  key?: string;
  code?: ErrorCode;
  /** What went wrong on the server's side (5xx); never shown to the client. */
  error?: string;
  /** The client went away before the answer was sent. */
  aborted?: boolean;
  /** The request's id: the one it came with (X-Request-Id, a load balancer's), or one made for a 5xx answer. */
  requestId?: string;
}

const MAX_PATH = 200;

// An id a load balancer or proxy put on the request (X-Request-Id; a UUID, a hex or base64url string). Kept, logged
// and sent back only as plain text of a sane length, and never when it looks like a token (TOKEN_PREFIX anywhere):
// the log holds none. Anything else is as if it were absent.
const PLAIN_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The request's own id, from its X-Request-Id header, where it is one the log may hold. */
export function requestIdOf(header: string | string[] | undefined): string | undefined {
  return typeof header === 'string' && PLAIN_ID.test(header) && !header.toLowerCase().includes(TOKEN_PREFIX) ? header : undefined;
}

let lastMs = -1;
let lastIso = '';
/** Now as ISO text; formatting a date is the dearest part of a log line, and a busy server answers many requests per millisecond. */
export function logTime(): string {
  const now = Date.now();
  if (now !== lastMs) {
    lastMs = now;
    lastIso = new Date(now).toISOString();
  }
  return lastIso;
}

function looksLikeToken(segment: string): boolean {
  let text = segment;
  try {
    text = decodeURIComponent(segment);
  } catch {
    // left as it is: still checked below
  }
  return /kw_/i.test(text);
}

/** The request path as it may be logged. */
export function loggablePath(rawPath: string): string {
  if (rawPath.length <= MAX_PATH && !/kw_|%/i.test(rawPath)) return rawPath;
  const path = rawPath
    .split('/')
    .map((s) => (looksLikeToken(s) ? '[token]' : s))
    .join('/');
  return path.length > MAX_PATH ? path.slice(0, MAX_PATH) + '…' : path;
}

// A query of plain names and values: nothing to decode, nothing that looks like a token (every list asks one, ?limit=20).
const PLAIN_QUERY = /^\??[\w.=&-]*$/;

// The last plain query and its names: clients ask the same query again and again (every list page, ?limit=20).
// Only a plain one is remembered: nothing that looks like a token is kept past its request.
let lastPlain = '';
let lastNames: string | undefined;

/** Only the names of the query parameters, in order, deduplicated. */
export function loggableQuery(search: string): string | undefined {
  if (!search) return undefined;
  if (search === lastPlain) return lastNames;
  const plain = PLAIN_QUERY.test(search) && !/kw_/i.test(search);
  const names = namesText(plain ? plainNames(search) : [...new Set([...new URLSearchParams(search).keys()].map((n) => (looksLikeToken(n) ? '[token]' : n)))]);
  if (plain) {
    lastPlain = search;
    lastNames = names;
  }
  return names;
}

function namesText(names: string[]): string | undefined {
  const text = names.join('&');
  return text ? (text.length > MAX_PATH ? text.slice(0, MAX_PATH) + '…' : text) : undefined;
}

/** A plain query's names as URLSearchParams reads them (one leading ? dropped, empty parts skipped, a name ends at its first =), deduplicated, without building it. */
function plainNames(search: string): string[] {
  const names = new Set<string>();
  for (const part of (search.startsWith('?') ? search.slice(1) : search).split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    names.add(eq < 0 ? part : part.slice(0, eq));
  }
  return [...names];
}

/** The default log: stdout, in one write per turn of the event loop however many requests that turn answered. */
export function stdoutLog(): { log: (line: string) => void; flush: () => void } {
  let pending: string[] = [];
  const flush = () => {
    if (pending.length === 0) return;
    const text = pending.join('\n') + '\n';
    pending = [];
    process.stdout.write(text);
  };
  return {
    log: (line) => {
      if (pending.push(line) === 1) setImmediate(flush);
    },
    flush,
  };
}
