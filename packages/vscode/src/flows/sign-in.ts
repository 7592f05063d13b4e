// Keyward: Sign In / Sign Out, for working against a Keyward server. The token
// is checked against the server before it is kept, and it is kept only in the
// editor's secret storage, under the server's URL.

import { type KeyService, parseToken, refusalText } from '@keyward/core';
import { serverUrlOf, tokenSecretKey } from '../connection.js';
import type { Prompter } from '../prompter.js';

export interface SignInDeps {
  prompter: Prompter;
  /** The keyward.server setting as it is now ('' when unset). */
  configuredServer: () => string;
  saveServer: (url: string) => Promise<void>;
  storeSecret: (key: string, value: string) => Promise<void>;
  deleteSecret: (key: string) => Promise<void>;
  openServer: (url: string, token: string) => KeyService | Promise<KeyService>;
}

function urlProblem(text: string): string | undefined {
  try {
    serverUrlOf(text);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

export async function signIn(deps: SignInDeps): Promise<boolean> {
  const { prompter } = deps;
  let url: string;
  const configured = deps.configuredServer().trim();
  if (configured) {
    try {
      url = serverUrlOf(configured);
    } catch (e) {
      await prompter.error(refusalText(e));
      return false;
    }
  } else {
    const typed = await prompter.input({ title: 'Keyward: Sign In (1/2)', prompt: 'URL of the Keyward server', placeHolder: 'http://127.0.0.1:8787', validate: urlProblem });
    if (typed === undefined) return false;
    url = serverUrlOf(typed);
  }
  const token = await prompter.input({
    title: configured ? 'Keyward: Sign In' : 'Keyward: Sign In (2/2)',
    prompt: `Your Keyward token for ${url}. It is kept in the editor's secret storage.`,
    password: true,
    placeHolder: 'kw_…',
    validate: (t) => (parseToken(t.trim()).ok ? undefined : 'Not a Keyward token: one starts with kw_ and ends with a checksum. Check it was copied whole.'),
  });
  if (token === undefined) return false;
  const service = await deps.openServer(url, token.trim());
  let who: string;
  try {
    who = (await service.whoami()).user.id;
  } catch (e) {
    await prompter.error(`Could not sign in to ${url}: ${refusalText(e)}`);
    return false;
  } finally {
    await service.close().catch(() => undefined);
  }
  await deps.storeSecret(tokenSecretKey(url), token.trim());
  if (!configured) await deps.saveServer(url);
  await prompter.info(`Signed in to ${url} as ${who}.`);
  return true;
}

export async function signOut(deps: SignInDeps): Promise<boolean> {
  const configured = deps.configuredServer().trim();
  if (!configured) {
    await deps.prompter.info('Keyward is using a local store; there is nothing to sign out of.');
    return false;
  }
  const url = serverUrlOf(configured);
  await deps.deleteSecret(tokenSecretKey(url));
  await deps.prompter.info(`Signed out of ${url}; its token was removed from the editor's secret storage.`);
  return true;
}
