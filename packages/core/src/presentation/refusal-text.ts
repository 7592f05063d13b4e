// A refusal as every face shows it (behaviour §5): its sentence followed by its
// stable code, "You have 5 active keys, … (KEY_LIMIT_REACHED)", so a person
// can search for the code. The command line, the terminal UI and the
// extension all print it this way. The sentence may come from a server, so
// it is made inert (safeText): a hostile server cannot retitle a terminal.

import { textOf } from '../duration.js';
import { type ErrorCode, isErrorCode } from '../refusal.js';
import { safeText } from './safe-text.js';

/** The text a person sees for anything a Keyward call threw, or a policy refusal. */
export function refusalText(e: unknown): string {
  if (e && typeof e === 'object' && 'message' in e) {
    const { message, code } = e as { message: unknown; code?: unknown };
    const text = safeText(textOf(message));
    // A system error's code (ECONNREFUSED) is shown too: it is what a person searches for.
    return typeof code === 'string' && /^[A-Z][A-Z_]*$/.test(code) ? `${text} (${code})` : text;
  }
  return safeText(textOf(e));
}

/** The stable code of a refusal (behaviour §5), when it is one. */
export function refusalCode(e: unknown): ErrorCode | undefined {
  const code = e && typeof e === 'object' ? (e as { code?: unknown }).code : undefined;
  return isErrorCode(code) ? code : undefined;
}
