// Text from the store (descriptions, names, event details) is shown escaped:
// a control character or escape sequence in it must never reach a terminal
// raw, where it could move the cursor, change the title or fake output.

const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

export function safeText(text: unknown): string {
  return String(text ?? '').replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    if (code === 0x1b) return '␛';
    if (code < 0x20) return '^' + String.fromCharCode(code + 0x40);
    return '\\u' + code.toString(16).padStart(4, '0');
  });
}
