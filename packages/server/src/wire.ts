// What goes back on the wire: JSON bodies in behaviour §3's shapes, and every
// error as {errors:[{code, title, detail, status}]} with core's codes, titles
// and statuses, so a client switches on `code` whatever face it came from.

import type { ServerResponse } from 'node:http';
import { type ErrorCode, HTTP_STATUS, TITLES, type WireErrors } from '@keyward/core';

export interface Reply {
  status: number;
  body?: unknown;
  /** The body already as JSON text (GET /users/me, made once per change: core's wire/me-text.ts); sent instead of `body`. */
  text?: string;
  headers?: Record<string, string>;
}

export function errorReply(code: ErrorCode, detail: string, headers?: Record<string, string>): Reply {
  const status = HTTP_STATUS[code];
  const body: WireErrors = { errors: [{ code, title: TITLES[code], detail, status }] };
  return { status, body, headers };
}

/**
 * Writes the answer. Headers go to writeHead as one flat list: Node takes it
 * as it is, where an object is walked key by key, and no object is copied to
 * add the body's or the token's headers.
 */
export function send(res: ServerResponse, reply: Reply, tokenExpiration?: string, requestId?: string): void {
  if (res.headersSent || res.destroyed) return;
  // Only the headers that earn their place: every byte is parsed by every client on every answer.
  const headers: (string | number)[] = [];
  if (reply.headers !== undefined) for (const name of Object.keys(reply.headers)) headers.push(name, reply.headers[name]);
  // Every authenticated answer, refusals included, tells the client when its token ends (as GitHub's
  // GitHub-Authentication-Token-Expiration does), so it sees that coming.
  if (tokenExpiration !== undefined) headers.push('Keyward-Token-Expiration', tokenExpiration);
  // The request's id, where it came with one or the answer is the server's trouble (handle.ts failure).
  if (requestId !== undefined) headers.push('X-Request-Id', requestId);
  if (reply.body === undefined && reply.text === undefined) {
    res.writeHead(reply.status, headers);
    res.end();
    return;
  }
  const text = reply.text ?? JSON.stringify(reply.body);
  // JSON has no charset parameter (RFC 8259): it is UTF-8.
  headers.push('Content-Type', 'application/json', 'Content-Length', Buffer.byteLength(text));
  res.writeHead(reply.status, headers);
  res.end(text);
}
