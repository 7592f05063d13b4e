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

export function send(res: ServerResponse, reply: Reply): void {
  if (res.headersSent || res.destroyed) return;
  // Only the headers that earn their place: every byte is parsed by every client on every answer.
  if (reply.body === undefined && reply.text === undefined) {
    res.writeHead(reply.status, reply.headers);
    res.end();
    return;
  }
  const text = reply.text ?? JSON.stringify(reply.body);
  // JSON has no charset parameter (RFC 8259): it is UTF-8.
  res.writeHead(reply.status, { ...reply.headers, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
