// Short key ids (behaviour §6): a key may be named by any unambiguous prefix of at
// least 6 characters of its id, as git, docker and gh accept — the terminal UI
// shows 8. The rule lives here once; the engine asks its store for the
// candidates, the remote client asks the server's key list.

import { printable, textOf } from './duration.js';
import { refuse } from './refusal.js';
import { KEY_ID_PATTERN } from './token.js';

export const MIN_ID_PREFIX = 6;

/** How many candidates a lookup asks for: enough to name a few in a refusal. */
export const PREFIX_CANDIDATES = 6;

/**
 * A whole id as it is; a prefix checked for shape. Returns the lowercase
 * text to look up and whether it is a whole id (no lookup needed).
 */
export function checkIdOrPrefix(text: unknown): { text: string; whole: boolean } {
  const t = typeof text === 'string' ? text.trim().toLowerCase() : '';
  if (KEY_ID_PATTERN.test(t)) return { text: t, whole: true };
  // Text that cannot start any id names no key (behaviour §3: whatever its shape); a hex prefix too short to tell keys apart is a mistake.
  if (!/^[0-9a-f]+$/.test(t) || t.length > 24) refuse('KEY_NOT_FOUND', `No key "${printable(textOf(text))}": a key id is 24 hexadecimal characters, or its first ${MIN_ID_PREFIX} or more.`);
  if (t.length < MIN_ID_PREFIX) refuse('INVALID_INPUT', `"${t}" is too short to name a key: give the whole id (24 hexadecimal characters) or at least its first ${MIN_ID_PREFIX}.`);
  return { text: t, whole: false };
}

/** The one key id that starts with `prefix` among the ids the actor may see; otherwise a refusal naming what was found. */
export function pickByPrefix(prefix: string, ids: readonly string[]): string {
  const matching = [...new Set(ids.filter((id) => id.startsWith(prefix)))].sort();
  if (matching.length === 1) return matching[0];
  if (matching.length === 0) refuse('KEY_NOT_FOUND', `No key id starts with ${prefix}.`);
  const shown = matching.slice(0, PREFIX_CANDIDATES - 1);
  const more = matching.length > shown.length ? ' and more' : '';
  return refuse('INVALID_INPUT', `The key id prefix ${prefix} is ambiguous: ${shown.join(', ')}${more} all start with it; give more of the id.`);
}
