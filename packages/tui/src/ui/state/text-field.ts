// A one-line text field as a pure reducer: insert at the cursor, delete
// before it, move. What may be typed is filtered before it gets here.

import type { KeyPress } from '../keys/keypress.js';

export interface TextField {
  value: string;
  /** Position in code points. */
  cursor: number;
}

export const textField = (value = ''): TextField => ({ value, cursor: [...value].length });

/** Applies an editing key; returns undefined when the key is not an edit. */
export function editText(f: TextField, k: KeyPress, maxLength = 1000): TextField | undefined {
  const chars = [...f.value];
  switch (k.name) {
    case 'left':
      return { ...f, cursor: Math.max(0, f.cursor - 1) };
    case 'right':
      return { ...f, cursor: Math.min(chars.length, f.cursor + 1) };
    case 'home':
    case 'ctrl+a':
      return { ...f, cursor: 0 };
    case 'end':
    case 'ctrl+e':
      return { ...f, cursor: chars.length };
    case 'backspace':
      if (f.cursor === 0) return f;
      chars.splice(f.cursor - 1, 1);
      return { value: chars.join(''), cursor: f.cursor - 1 };
    case 'ctrl+u':
      return textField('');
  }
  if (!k.text) return undefined;
  const room = Math.max(0, maxLength - chars.length);
  const insert = [...k.text].slice(0, room);
  chars.splice(f.cursor, 0, ...insert);
  return { value: chars.join(''), cursor: f.cursor + insert.length };
}
