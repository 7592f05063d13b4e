// Short key ids on a local store: the keys the actor may see whose id starts
// with the prefix, asked of the store by prefix (an index range, not a scan).

import { canSeeKey } from '../policy.js';
import { PREFIX_CANDIDATES, checkIdOrPrefix, pickByPrefix } from '../key-prefix.js';
import type { ActorContext } from './context.js';

export async function resolveKeyId(c: ActorContext, idOrPrefix: string): Promise<string> {
  const { text, whole } = checkIdOrPrefix(idOrPrefix);
  if (whole) return text;
  const { actor } = await c.read();
  // Keys the actor may not see are not candidates: a prefix must not tell that they exist.
  const seen: string[] = [];
  let asked = PREFIX_CANDIDATES;
  for (;;) {
    const found = await c.store.keysByIdPrefix(text, asked);
    seen.length = 0;
    for (const k of found) if (canSeeKey(actor, k)) seen.push(k.id);
    if (seen.length >= PREFIX_CANDIDATES || found.length < asked) break;
    asked *= 8;
  }
  return pickByPrefix(text, seen);
}
