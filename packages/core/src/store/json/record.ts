// One journal record: a transaction's ops and events, self-checking so a
// reader can tell a whole record from the remains of a write cut short.
//
//   [u32 LE payload length][u32 LE CRC-32 of length bytes + payload][payload: UTF-8 JSON]
//
// The CRC covers the length too, so a damaged length is caught rather than
// sending the reader off to a wrong boundary that happens to check.

import { crc32 } from 'node:zlib';

export const RECORD_HEADER_BYTES = 8;
/** A length beyond this is damage, not a record (a transaction is kilobytes). */
export const MAX_RECORD_BYTES = 64 * 1024 * 1024;

export function encodeRecord(payload: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(payload), 'utf8');
  const out = Buffer.allocUnsafe(RECORD_HEADER_BYTES + body.length);
  out.writeUInt32LE(body.length, 0);
  body.copy(out, RECORD_HEADER_BYTES);
  out.writeUInt32LE(crc32(body, crc32(out.subarray(0, 4))), 4);
  return out;
}

export type Decoded =
  /** A whole record that checks. */
  | { kind: 'record'; payload: unknown; size: number }
  /** The bytes end before the record does: a write in progress, or cut short. */
  | { kind: 'incomplete' }
  /** The record is all there but does not check (or is not JSON). */
  | { kind: 'bad'; size: number };

/** Reads the record at `at` in `buf`. */
export function decodeRecord(buf: Buffer, at: number): Decoded {
  if (buf.length - at < RECORD_HEADER_BYTES) return { kind: 'incomplete' };
  const length = buf.readUInt32LE(at);
  if (length === 0 || length > MAX_RECORD_BYTES) return { kind: 'bad', size: RECORD_HEADER_BYTES };
  const size = RECORD_HEADER_BYTES + length;
  if (buf.length - at < size) return { kind: 'incomplete' };
  const body = buf.subarray(at + RECORD_HEADER_BYTES, at + size);
  if (crc32(body, crc32(buf.subarray(at, at + 4))) !== buf.readUInt32LE(at + 4)) return { kind: 'bad', size };
  try {
    return { kind: 'record', payload: JSON.parse(body.toString('utf8')), size };
  } catch {
    return { kind: 'bad', size };
  }
}
