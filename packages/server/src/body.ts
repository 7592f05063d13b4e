// Request bodies: JSON only, at most 1 MB. A body over the limit is refused
// as soon as that is known (from Content-Length, or while it arrives), and the
// rest is read and thrown away so the client still gets its 413 on a healthy
// connection; a client that keeps sending far beyond that is cut off.

import type { IncomingMessage } from 'node:http';
import { KeywardError, printable } from '@keyward/core';

export const MAX_BODY_BYTES = 1024 * 1024;
const DISCARD_LIMIT = 16 * MAX_BODY_BYTES;

const tooLarge = () => new KeywardError('PAYLOAD_TOO_LARGE', `The request body is larger than ${MAX_BODY_BYTES} bytes (1 MB).`);

function discardRest(req: IncomingMessage, seen: number): void {
  let total = seen;
  req.on('data', (chunk: Buffer) => {
    total += chunk.length;
    if (total > DISCARD_LIMIT) req.socket.destroy();
  });
  req.resume();
}

/** The raw body, at most 1 MB (a signed body is verified as the bytes that were sent). */
export function readBytes(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (declared > MAX_BODY_BYTES) {
      discardRest(req, 0);
      reject(tooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.off('data', onData);
        discardRest(req, size);
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks, size)));
    req.once('error', () => reject(new KeywardError('INVALID_INPUT', 'The request body was cut off.')));
    req.once('close', () => {
      if (!req.complete) reject(new KeywardError('INVALID_INPUT', 'The request body was cut off.'));
    });
  });
}

/** `application/json` or any `+json` type (JSON Patch is `application/json-patch+json`). */
function isJsonType(header: string | undefined): boolean {
  if (header === 'application/json') return true;
  const type = (header ?? '').split(';')[0].trim().toLowerCase();
  return type === 'application/json' || /^application\/[a-z0-9.+-]*\+json$/.test(type);
}

/** Reads and parses a JSON body, refusing a wrong content type, a body over 1 MB or text that is not JSON. */
export async function readJson(req: IncomingMessage): Promise<unknown> {
  const type = req.headers['content-type'];
  if (!isJsonType(type)) {
    // Still honour the size limit first: a huge body of any type is a 413.
    if (Number(req.headers['content-length']) > MAX_BODY_BYTES) await readBytes(req);
    throw new KeywardError(
      'INVALID_INPUT',
      type ? `Send the body as JSON (Content-Type: application/json), not ${printable(type)}.` : 'This request needs a JSON body (Content-Type: application/json).',
    );
  }
  const bytes = await readBytes(req);
  if (bytes.length === 0) throw new KeywardError('INVALID_INPUT', 'This request needs a JSON body.');
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    // V8's message quotes the body back; a body may hold a token, so say less.
    throw new KeywardError('INVALID_INPUT', 'The request body is not valid JSON.');
  }
}

/** A JSON object body (not an array, not null), for the routes that take named fields. */
export async function readObject(req: IncomingMessage, example: string): Promise<Record<string, unknown>> {
  const body = await readJson(req);
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new KeywardError('INVALID_INPUT', `The body must be a JSON object such as ${example}.`);
  return body as Record<string, unknown>;
}

/**
 * Waits until the rest of a request's body has arrived and been thrown away,
 * so an answer given before reading it (404, 405, 401, 413, …) reaches the
 * client: a connection closed with unread data is reset by the kernel, and
 * the answer with it. Bodies past the discard limit are cut off instead, and a
 * client that stalls is answered after `waitMs` all the same.
 */
export function drained(req: IncomingMessage, waitMs = 5_000): Promise<void> {
  if (req.complete || req.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    let seen = 0;
    const done = () => {
      clearTimeout(timer);
      req.off('data', count);
      resolve();
    };
    const count = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > DISCARD_LIMIT) req.socket.destroy();
    };
    const timer = setTimeout(done, waitMs);
    req.on('data', count);
    req.once('end', done);
    req.once('close', done);
    req.resume();
  });
}
