// The quick fix "Replace with a new key": generate a key like the old one, put
// its token where the old token was, then offer to shut the old key off
// (a replaced key that still works is still a leaked secret).

import type { KeyView } from '@keyward/core';
import { type GenerateDeps, askKeyRequest, generate } from './generate.js';
import { deleteApiKey, revokeApiKey, shutOffActionFor } from './key-actions.js';

export interface ReplaceDeps extends GenerateDeps {
  /** Puts the new token over the old one in the document; false when the old token is gone. */
  replace: (token: string) => Promise<boolean>;
}

/** `old`: the key behind the old token, when it is known. */
export async function replaceTokenWithNewKey(deps: ReplaceDeps, old: KeyView | undefined): Promise<KeyView | undefined> {
  const request = await askKeyRequest(deps, old?.description ?? '');
  if (!request) return undefined;
  const made = await generate(deps, request);
  if (!made) return undefined;
  const { key, token } = made;
  if (!(await deps.replace(token))) {
    await deps.prompter.copy(token);
    await deps.prompter.warn(`Generated API key "${key.description}", but the old token was no longer in the document; the new token was copied to the clipboard instead.`);
    return key;
  }
  const shutOff = old ? shutOffActionFor(old, deps.now()) : undefined;
  if (!old || !shutOff) {
    await deps.prompter.info(`Replaced the token with new API key "${key.description}".`);
    return key;
  }
  const action = shutOff === 'revoke' ? 'Revoke Old Key' : 'Delete Old Key';
  const answer = await deps.prompter.info(`Replaced the token with new API key "${key.description}". The old key "${old.description}" still works.`, action);
  if (answer === action) {
    if (shutOff === 'revoke') await revokeApiKey(deps, old);
    else await deleteApiKey(deps, old);
  }
  return key;
}
