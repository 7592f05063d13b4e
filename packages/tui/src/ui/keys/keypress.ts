// One shape for a key, whatever the terminal sent: Ink's (input, key) pair
// becomes a name the binding table can match ("j", "G", "enter", "ctrl+c",
// "pagedown") plus the text a text field should insert.

import type { Key } from 'ink';

export interface KeyPress {
  /** "j", "G", "?", "space", "enter", "esc", "up", "pagedown", "ctrl+c"…; "" for pasted text. */
  name: string;
  /** Printable text for text fields (one character, or several when pasted); "" for other keys. */
  text: string;
}

// Control characters, DEL, C1 and bidirectional overrides never enter a field.
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

export function toKeyPress(input: string, key: Key): KeyPress {
  const special =
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
    (key.tab && 'tab') ||
    // Terminals send DEL for the backspace key; Ink reports it as delete.
    ((key.backspace || key.delete) && 'backspace') ||
    '';
  if (special) return { name: key.shift && special === 'tab' ? 'shift+tab' : special, text: '' };
  if (key.ctrl) return { name: `ctrl+${input.toLowerCase()}`, text: '' };
  // Ink names a bare line feed "enter" but leaves `key.return` unset.
  if (input === '\n' || input === '\r') return { name: 'enter', text: '' };
  if (key.meta) return { name: `meta+${input}`, text: '' };
  const text = input.replace(/\r\n?|\n/g, ' ').replace(UNPRINTABLE, '');
  if (text === ' ') return { name: 'space', text };
  return { name: [...text].length === 1 ? text : '', text };
}
