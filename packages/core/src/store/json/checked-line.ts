// One record per line, self-checking: `<crc32 of the JSON, 8 hex> <JSON>`.
// A line cut short by a crash, a full disk, or a hand edit fails its check and
// is skipped (and reported) instead of being taken for a record.
//
// Each append writes "\n" + lines + "\n": the leading newline isolates
// whatever partial line a writer killed mid-write left behind, so the next
// record is never glued onto it; a reader ignores empty lines and a final
// fragment without its newline (a write still in flight).

import { crc32 } from 'node:zlib';

export function checkedLine(value: unknown): string {
  const json = JSON.stringify(value);
  return `${crc32(json).toString(16).padStart(8, '0')} ${json}`;
}

/** The text one append writes. */
export function appendText(values: readonly unknown[]): string {
  return '\n' + values.map(checkedLine).join('\n') + '\n';
}

/** The value of a line, or undefined when it does not check or parse. */
export function parseCheckedLine(line: string): unknown {
  if (line.length < 10 || line.charCodeAt(8) !== 0x20) return undefined;
  const json = line.slice(9);
  if (crc32(json).toString(16).padStart(8, '0') !== line.slice(0, 8)) return undefined;
  try {
    return JSON.parse(json);
  } catch {
    return undefined;
  }
}
