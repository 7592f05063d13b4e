// The one line reader of the stress tools: children report on stdout one
// line per fact (a request log entry, a write tried or acknowledged).

import type { Readable } from 'node:stream';

/**
 * Calls `onLine` with each complete line `stream` writes. An unfinished last
 * line — a child killed mid-write — is never seen, so a torn "ack 17" cannot
 * read as "ack 1".
 */
export function eachLine(stream: Readable, onLine: (line: string) => void): void {
  let buf = '';
  stream.on('data', (d: Buffer) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      onLine(line);
    }
  });
}
