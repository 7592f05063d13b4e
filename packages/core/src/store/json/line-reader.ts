// Reads a file of lines in chunks, backwards (newest first) or forwards, so a
// page costs the chunks it touches, not the file: memory stays one chunk plus
// one line whatever the file's size.

import type { FileHandle } from 'node:fs/promises';
import { readAt } from './files.js';

const CHUNK = 64 * 1024;

export interface Line {
  text: string;
  /** Byte offset of the line's first byte. */
  start: number;
  /** Byte offset just past its newline. */
  end: number;
}

/**
 * Complete lines (each ending in "\n") of bytes [from, to), last line first.
 * A final fragment with no newline (a write in flight) is left out.
 */
export async function* linesBackward(fd: FileHandle, to: number, from = 0, chunk = CHUNK): AsyncGenerator<Line> {
  let pos = to;
  // Bytes [pos, pos + carry.length): the end of a line whose start is further back.
  let carry: Buffer = Buffer.alloc(0);
  let trimmed = false;
  while (pos > from) {
    const start = Math.max(from, pos - chunk);
    const buf = await readAt(fd, start, pos - start);
    pos = start;
    let data = carry.length ? Buffer.concat([buf, carry]) : buf;
    if (!trimmed) {
      // Drop an unterminated tail: a write still in flight, or one torn at the end.
      const last = data.lastIndexOf(0x0a);
      if (last < 0) {
        carry = data;
        continue;
      }
      data = data.subarray(0, last);
      trimmed = true;
    }
    // The byte after `data` is a newline; walk its lines from the end.
    let lineEnd = data.length;
    while (lineEnd > 0) {
      const nl = data.lastIndexOf(0x0a, lineEnd - 1);
      if (nl < 0) break;
      if (lineEnd > nl + 1) yield { text: data.toString('utf8', nl + 1, lineEnd), start: start + nl + 1, end: start + lineEnd + 1 };
      lineEnd = nl;
    }
    carry = data.subarray(0, lineEnd);
  }
  if (trimmed && carry.length > 0) yield { text: carry.toString('utf8'), start: from, end: from + carry.length + 1 };
}

/** Complete lines of bytes [from, to), first line first. */
export async function* linesForward(fd: FileHandle, from: number, to: number, chunk = CHUNK): AsyncGenerator<Line> {
  let carry: Buffer = Buffer.alloc(0);
  let carryStart = from;
  let pos = from;
  while (pos < to) {
    const buf = await readAt(fd, pos, Math.min(chunk, to - pos));
    if (buf.length === 0) break;
    const data = carry.length ? Buffer.concat([carry, buf]) : buf;
    const dataStart = carryStart;
    pos += buf.length;
    let lineStart = 0;
    for (;;) {
      const nl = data.indexOf(0x0a, lineStart);
      if (nl < 0) break;
      if (nl > lineStart) yield { text: data.toString('utf8', lineStart, nl), start: dataStart + lineStart, end: dataStart + nl + 1 };
      lineStart = nl + 1;
    }
    carry = data.subarray(lineStart);
    carryStart = dataStart + lineStart;
  }
}

/** How much a seek reads at a time: it decodes nothing, so bigger reads only mean fewer of them. */
const SEEK_CHUNK = 1024 * 1024;

/**
 * The last complete line of bytes [from, to) that holds `needle` and that
 * `accept` takes (the needle may stand in a line it does not want). Found by
 * searching the raw bytes backwards, decoding and parsing no line but those
 * that hold the needle: a page of events after a cursor deep in a busy
 * day's segment parsed every event after the cursor to find it, up to a
 * second a page at 166k events a day.
 */
export async function lastLineWith(fd: FileHandle, from: number, to: number, needle: Buffer, accept: (line: Line) => boolean, chunk = SEEK_CHUNK): Promise<Line | undefined> {
  let pos = to;
  // Bytes [pos, pos + tail.length): the first line of what was searched, whose start is further back.
  let tail: Buffer = Buffer.alloc(0);
  while (pos > from) {
    const start = Math.max(from, pos - Math.max(chunk, needle.length));
    const data = tail.length ? Buffer.concat([await readAt(fd, start, pos - start), tail]) : await readAt(fd, start, pos - start);
    pos = start;
    // Lines that start before `data` (all of it, with no newline) are looked at once it holds them whole (the next read).
    const firstNl = data.indexOf(0x0a);
    const whole = start === from ? 0 : firstNl < 0 ? data.length : firstNl + 1;
    for (let at = data.lastIndexOf(needle); at >= 0; at = at > 0 ? data.lastIndexOf(needle, at - 1) : -1) {
      const lineStart = data.lastIndexOf(0x0a, at) + 1;
      if (lineStart < whole) break;
      const lineEnd = data.indexOf(0x0a, at + needle.length);
      // No newline after it: a write still in flight, not a line yet.
      if (lineEnd < 0) continue;
      const line = { text: data.toString('utf8', lineStart, lineEnd), start: start + lineStart, end: start + lineEnd + 1 };
      if (accept(line)) return line;
    }
    tail = firstNl < 0 ? data : data.subarray(0, firstNl + 1);
  }
  return undefined;
}
