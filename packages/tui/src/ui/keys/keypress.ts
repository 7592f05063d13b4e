// One shape for a key, whatever the terminal sent: Ink's (input, key) pair
// becomes the keys a person pressed, each named the way the binding table
// writes it ("j", "G", "?", "space", "enter", "esc", "pagedown", "ctrl+c"),
// with the text a text field should insert.
//
// Ink hands over a whole read as one input. Over SSH, keys typed quickly
// arrive in one read ("5n", "y\r", "j\x03"), so plain input is split into
// single keys; a real paste is told apart by bracketed paste mode (the
// terminal wraps it in ESC[200~ … ESC[201~) and reaches text fields whole.

import type { Key } from 'ink';

export interface KeyPress {
  /** "j", "G", "?", "space", "enter", "esc", "up", "pagedown", "ctrl+c"…; "" for pasted text. */
  name: string;
  /** Printable text for text fields (one character, or a whole paste); "" for other keys. */
  text: string;
}

export type InputEvent = { kind: 'keys'; keys: KeyPress[] } | { kind: 'pasteStart' } | { kind: 'pasteEnd' };

// Control characters, DEL, C1 and bidirectional overrides never enter a field.
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** Printable text, with line breaks as spaces and anything unprintable dropped. */
export const printableText = (text: string): string => text.replace(/\r\n?|\n/g, ' ').replace(UNPRINTABLE, '');

/** The key a single character stands for. */
export function charKey(ch: string): KeyPress {
  if (ch === '\r' || ch === '\n') return { name: 'enter', text: '' };
  if (ch === '\u007f' || ch === '\b') return { name: 'backspace', text: '' };
  if (ch === '\t') return { name: 'tab', text: '' };
  if (ch === '\u001b') return { name: 'esc', text: '' };
  if (ch === ' ') return { name: 'space', text: ' ' };
  const code = ch.codePointAt(0)!;
  if (code < 0x20) return { name: `ctrl+${String.fromCharCode(code + 0x60)}`, text: '' };
  const text = printableText(ch);
  return { name: text, text };
}

function special(key: Key): string {
  return (
    (key.upArrow && 'up') ||
    (key.downArrow && 'down') ||
    (key.leftArrow && 'left') ||
    (key.rightArrow && 'right') ||
    (key.pageUp && 'pageup') ||
    (key.pageDown && 'pagedown') ||
    (key.home && 'home') ||
    (key.end && 'end') ||
    (key.return && 'enter') ||
    (key.escape && 'esc') ||
    (key.tab && (key.shift ? 'shift+tab' : 'tab')) ||
    // Terminals send DEL for the backspace key; Ink reports it as delete.
    ((key.backspace || key.delete) && 'backspace') ||
    ''
  );
}

export function readInput(input: string, key: Key): InputEvent {
  // Ink has already taken the ESC off these two.
  if (input === '[200~') return { kind: 'pasteStart' };
  if (input === '[201~') return { kind: 'pasteEnd' };
  const name = special(key);
  if (name) return { kind: 'keys', keys: [{ name, text: '' }] };
  if (key.ctrl) return { kind: 'keys', keys: [{ name: `ctrl+${input.toLowerCase()}`, text: '' }] };
  const chars = [...input];
  // ESC and a key in one read: alt-key, or esc typed just before the key. Keyward has no alt keys.
  if (key.meta && chars.length === 1) return { kind: 'keys', keys: [{ name: 'esc', text: '' }, charKey(input)] };
  return { kind: 'keys', keys: chars.map(charKey) };
}
