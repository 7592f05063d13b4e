// Everything a face prints is made inert here: text from a store
// (descriptions, names, event details) and text from a server (a refusal's
// detail, any field of an answer). A control character or escape sequence in
// it must never reach a terminal raw, where it could move the cursor, change
// the title or colours, or fake output; a bidirectional control could reorder
// what a line reads, and an invisible character make one text look like
// another. The characters escaped are the ones policy's checkStoredText
// refuses to store (its CONTROL, BIDI and INVISIBLE classes), so what may not
// be written is also what is never shown as it is.

import { UNSAFE_TEXT as UNSAFE } from '../text-classes.js';
// Most text is printable ASCII and needs no look through UNSAFE (the request log is on a server's hot path).
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
const PRINTABLE_ASCII_LINES = /^[\x20-\x7e\n]*$/;

/** The text as a terminal may show it: ESC as ␛, other C0 controls as ^X, the rest as \uXXXX. */
export function safeText(text: unknown): string {
  const s = String(text ?? '');
  if (PRINTABLE_ASCII.test(s)) return s;
  return s.replace(UNSAFE, (c) => {
    const code = c.codePointAt(0)!;
    if (code === 0x1b) return '␛';
    if (code < 0x20) return '^' + String.fromCharCode(code + 0x40);
    return code > 0xffff ? `\\u{${code.toString(16)}}` : '\\u' + code.toString(16).padStart(4, '0');
  });
}

/** Several lines made inert each, keeping the line breaks between them (a table, a confirmation). */
export function safeLines(text: string): string {
  return text.split('\n').map(safeText).join('\n');
}

/**
 * A JSON document printable as it is, for scripts: the same values when read
 * back, with every unsafe character a \uXXXX escape. JSON.stringify escapes
 * C0 controls itself but leaves C1 controls (an 8-bit CSI), separators,
 * bidirectional and invisible characters raw.
 */
export function safeJson(doc: unknown, indent?: number): string {
  // The only raw controls left in JSON text are the line breaks of its indentation.
  const json = JSON.stringify(doc, null, indent);
  if (PRINTABLE_ASCII_LINES.test(json)) return json;
  const escape = (unit: string) => '\\u' + unit.charCodeAt(0).toString(16).padStart(4, '0');
  return json.replace(UNSAFE, (c) => (c === '\n' ? c : c.split('').map(escape).join('')));
}
