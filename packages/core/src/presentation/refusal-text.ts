// A refusal as every face shows it (behaviour §5): its sentence followed by its
// stable code, "You have 5 active keys, … (KEY_LIMIT_REACHED)", so a person
// can search for the code. The command line, the terminal UI and the
// extension all print it this way. The sentence may come from a server, so
// it is made inert (safeText): a hostile server cannot retitle a terminal.

import { textOf } from '../duration.js';
import { type ErrorCode, isErrorCode } from '../refusal.js';
import { type Permission, checkRotateKey } from '../policy.js';
import type { KeyView } from '../views.js';
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

/**
 * Why a key's view says its viewer may not rotate it (`actions.rotate` false),
 * asked in the order the engine asks: policy's checkRotateKey on what the view
 * says of the key, then generating's rules, since rotating generates a key —
 * `canGenerate` (WhoAmI's) says why not. A face says this instead of asking anything.
 */
export function rotateRefusalText(key: Pick<KeyView, 'description' | 'sub' | 'status' | 'rotatedTo'>, viewer: string, canGenerate: Permission): string {
  const name = `API key "${safeText(key.description)}"`;
  const refused = checkRotateKey(viewer, { owner: key.sub, status: key.status, rotatedTo: key.rotatedTo }, name);
  if (refused) return refused.message;
  const rule = `Rotating ${name} generates a new key, so its owner must be allowed to generate a key`;
  return canGenerate.ok ? `${rule}.` : `${rule}: ${refusalText(canGenerate)}`;
}
