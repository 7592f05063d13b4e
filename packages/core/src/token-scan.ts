// Finding Keyward tokens in file contents (`keyward scan`, the editor).
//
// A token is found by its prefix and confirmed by its checksum, so text that
// only looks like a token (the right prefix, a wrong checksum) is never
// reported. The search runs over raw bytes: Buffer.indexOf finds the prefix
// natively, and only the few places it matches are decoded and checked, so a
// tree of ordinary files costs little more than reading it.

import { TOKEN_LENGTH, TOKEN_PREFIX, parseToken } from './token.js';

export interface FoundToken {
  /** Byte offset of the token in the searched bytes. */
  offset: number;
  token: string;
  keyId: string;
}

const PREFIX = Buffer.from(TOKEN_PREFIX, 'latin1');

/** Every checksum-valid token in `bytes[from, to)`, in order. */
export function findTokens(bytes: Buffer, from = 0, to = bytes.length): FoundToken[] {
  const found: FoundToken[] = [];
  const last = to - TOKEN_LENGTH;
  let at = bytes.indexOf(PREFIX, from);
  while (at !== -1 && at <= last) {
    // latin1 keeps one character per byte, so a multi-byte character inside
    // the span can only fail the checksum, never shift it.
    const candidate = bytes.toString('latin1', at, at + TOKEN_LENGTH);
    const parsed = parseToken(candidate);
    if (parsed.ok) {
      found.push({ offset: at, token: candidate, keyId: parsed.keyId });
      at = bytes.indexOf(PREFIX, at + TOKEN_LENGTH);
    } else {
      at = bytes.indexOf(PREFIX, at + 1);
    }
  }
  return found;
}

/** A 1-based line and column (in characters). */
export interface LinePosition {
  line: number;
  column: number;
}

/**
 * Turns byte offsets into 1-based lines and columns (columns in characters,
 * as editors count them), walking the bytes once. A file read in chunks
 * hands each chunk the position where the previous one stopped.
 */
export class LineCounter {
  private line: number;
  private lineStart = 0;
  /** Characters of the current line that lie before this buffer (0 once a newline is passed). */
  private carried: number;
  private pos = 0;

  constructor(
    private readonly bytes: Buffer,
    start: LinePosition = { line: 1, column: 1 },
  ) {
    this.line = start.line;
    this.carried = start.column - 1;
  }

  /** The position of a byte offset; offsets must come in ascending order. */
  at(offset: number): LinePosition {
    let nl = this.bytes.indexOf(10, this.pos);
    while (nl !== -1 && nl < offset) {
      this.line++;
      this.lineStart = nl + 1;
      this.carried = 0;
      nl = this.bytes.indexOf(10, nl + 1);
    }
    this.pos = offset;
    return { line: this.line, column: this.carried + this.bytes.toString('utf8', this.lineStart, offset).length + 1 };
  }
}
