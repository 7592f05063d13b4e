// Keyward: Generate API Key. Asks a description and a lifetime, generates the
// key, and puts the token where the person chose: at the cursor (over the
// selection), on the clipboard, or in the workspace's .env as NAME=token. The
// token is shown once, like everywhere in Keyward, and the extension keeps no
// copy: only the key (without its token) is returned.

import { type KeyService, type KeyView, type WhoAmI, checkDescription, relativeTime } from '@keyward/core';
import { checkEnvName, envNameFor, findEnvLine, readEnvFile, writeEnvValue } from '../env-file.js';
import { checkTypedLifetime, lifetimeItems } from '../lifetimes.js';
import { throughLinkRefusal } from '../token-links.js';
import type { PickItem, Prompter } from '../prompter.js';
import { type RefusalDeps, showRefusal } from './refusal.js';

export interface GenerateDeps extends RefusalDeps {
  service: KeyService;
  me: WhoAmI;
  prompter: Prompter;
  now: () => number;
  isTracked: (path: string) => Promise<boolean>;
}

export interface KeyRequest {
  description: string;
  /** Undefined: the tenant maximum. */
  expiry?: string;
}

/** Where a new token can go; the editor layer offers what exists right now. */
export interface TokenDestinations {
  /** The active editor: "Insert at cursor" or "Replace selection". */
  editor?: { label: string; file: string; put(token: string): Promise<boolean> };
  /** Why the active editor is not offered ("a.txt has unsaved changes"): a token is never left in an unsaved editor. */
  notEditor?: string;
  /** The .env file of the workspace folder, when there is a folder. */
  envFile?: string;
  /** Why .env is not offered (a symbolic link, token-links.ts). */
  notEnvFile?: string;
}

/** `to` without its .env when that is a symbolic link, saying why: a token is never written through one. */
function withoutLinkedEnv(to: TokenDestinations): TokenDestinations {
  const why = to.envFile === undefined ? undefined : throughLinkRefusal(to.envFile, '.env');
  return why ? { ...to, envFile: undefined, notEnvFile: why } : to;
}

export type Placement = 'editor' | 'copy' | 'env';

/** Asks description and lifetime; undefined when the person cancels or generating would be refused. */
export async function askKeyRequest(deps: GenerateDeps, description = ''): Promise<KeyRequest | undefined> {
  const { me, prompter } = deps;
  // Ask nothing that would be refused anyway: keys off, no licence, no role, at the limit.
  if (!me.canGenerate.ok) {
    await prompter.error(`${me.canGenerate.message} (${me.canGenerate.code})`);
    return undefined;
  }
  const text = await prompter.input({
    title: 'Generate API Key (1/2)',
    prompt: 'Description: what the key is for, so you recognise it in lists',
    value: description,
    placeHolder: 'CI deploy',
    validate: (t) => checkDescription(t)?.message,
  });
  if (text === undefined) return undefined;
  const max = me.settings.max_api_key_expiry;
  const choice = await prompter.pick({
    title: 'Generate API Key (2/2)',
    placeHolder: `Lifetime (the tenant allows at most ${max})`,
    items: lifetimeItems(max).map((c) => ({ label: c.label, detail: c.detail, value: c })),
  });
  if (!choice) return undefined;
  let expiry = choice.expiry;
  if (choice.custom) {
    expiry = await prompter.input({
      title: 'Generate API Key (2/2)',
      prompt: `Lifetime, at most ${max}: an ISO 8601 duration (P14D, P2W, PT12H) or 2w, 14d, 12h, 90m, 45s`,
      placeHolder: 'P14D',
      validate: (t) => checkTypedLifetime(t, max),
    });
    if (expiry === undefined) return undefined;
    expiry = expiry.trim();
  }
  return { description: text.trim(), ...(expiry ? { expiry } : {}) };
}

/** Generates the key; shows the refusal (message and code) and returns undefined when refused. */
export async function generate(deps: GenerateDeps, request: KeyRequest): Promise<{ key: KeyView; token: string } | undefined> {
  try {
    const { token, ...key } = await deps.service.generateKey(request);
    return { key, token };
  } catch (e) {
    await showRefusal(deps, e);
    return undefined;
  }
}

export async function generateApiKey(deps: GenerateDeps, offered: TokenDestinations): Promise<{ key: KeyView; placement: Placement } | undefined> {
  const { prompter } = deps;
  const request = await askKeyRequest(deps);
  if (!request) return undefined;

  const to = withoutLinkedEnv(offered);
  const placement = await prompter.pick({ title: 'Generate API Key: where should the token go?', placeHolder: 'The token is shown only once', items: placementItems(to) });
  if (!placement) return undefined;

  let envName: string | undefined;
  if (placement === 'env') {
    const existing = await readEnvFile(to.envFile!);
    envName = await prompter.input({
      title: 'Generate API Key: variable name in .env',
      prompt: 'Name of the variable that will hold the token',
      value: envNameFor(request.description),
      validate: checkEnvName,
      caution: (n) => (findEnvLine(existing, n) >= 0 ? `.env already sets ${n}; its line will be replaced.` : undefined),
    });
    if (envName === undefined) return undefined;
  }

  const made = await generate(deps, request);
  if (!made) return undefined;
  const { key, token } = made;
  const expires = `expires ${relativeTime(key.expiry, deps.now())}`;

  if (placement === 'env') {
    const replaced = await writeEnvValue(to.envFile!, envName!, token).catch(async (e: NodeJS.ErrnoException) => {
      // The token is never lost: a .env turned into a link meanwhile (or a full disk) sends it to the clipboard.
      await prompter.copy(token);
      const why = (e.code === 'ELOOP' && throughLinkRefusal(to.envFile!, '.env')) || `.env could not be written (${e.code ?? e.message})`;
      await prompter.warn(`Generated API key "${key.description}" (${expires}), not written to .env: ${why}. Its token was copied to the clipboard instead; it will not be shown again.`);
      return undefined;
    });
    if (replaced === undefined) return { key, placement: 'copy' };
    await prompter.info(`Generated API key "${key.description}" (${expires}); ${replaced ? 'replaced' : 'added'} ${envName} in .env.`);
    if (await deps.isTracked(to.envFile!)) {
      await prompter.warn(`${to.envFile} is tracked by git: the token is now a secret in source. Untrack it (git rm --cached .env) and add .env to .gitignore.`);
    }
  } else {
    await prompter.info(`Generated API key "${key.description}" (${expires}). ${await insertOrCopy(prompter, to, placement, token)}`);
  }
  return { key, placement };
}

/** Where the token can go right now, as quick-pick items; `env: false` leaves .env out. */
export function placementItems(to: TokenDestinations, opts: { env: boolean } = { env: true }): PickItem<Placement>[] {
  const items: PickItem<Placement>[] = [];
  if (to.editor) items.push({ label: to.editor.label, detail: `The token goes into ${to.editor.file}.`, value: 'editor' });
  const notEditor = to.notEditor ? ` Not inserted at the cursor: ${to.notEditor}, and VS Code backs unsaved editors up to disk.` : '';
  const notEnv = opts.env && to.notEnvFile ? ` Not appended to .env: ${to.notEnvFile}.` : '';
  items.push({ label: 'Copy to clipboard', detail: `Paste it where it is needed; it is not shown again.${notEditor}${notEnv}`, value: 'copy' });
  if (opts.env && to.envFile) items.push({ label: 'Append to .env', detail: `As NAME=token in ${to.envFile}.`, value: 'env' });
  return items;
}

/** Puts the token into the editor, or on the clipboard (also when the editor was closed or changed meanwhile); the sentence saying which. */
export async function insertOrCopy(prompter: Prompter, to: TokenDestinations, placement: Placement, token: string): Promise<string> {
  if (placement === 'editor' && (await to.editor!.put(token))) return 'Its token was inserted and will not be shown again.';
  await prompter.copy(token);
  const why = placement === 'editor' ? 'The editor was closed or changed meanwhile, so its token was copied to the clipboard instead' : 'Its token was copied to the clipboard';
  return `${why}; it will not be shown again.`;
}
