// Revoke, delete, rename and copy the id of a key. Each takes the key it was
// invoked on (a row of the Keys view, a token's quick fix) or, from the command
// palette, asks for one with a searchable quick pick. Revoking and deleting
// cannot be undone, so both are confirmed first.

import { type KeyService, type KeyView, type WhoAmI, checkDescription, keyViewAt, refusalText } from '@keyward/core';
import type { Prompter } from '../prompter.js';
import { type RefusalDeps, showRefusal } from './refusal.js';

export interface KeyActionDeps extends RefusalDeps {
  service: KeyService;
  me: WhoAmI;
  prompter: Prompter;
  now: () => number;
}

/** A key as the commands receive it: a full view, just an id (a quick fix), or nothing (the palette). */
export type KeyTarget = KeyView | { id: string } | undefined;

const PICK_WINDOW = 50;

/** The key a command acts on: the one it was invoked on, read afresh from an id, or picked. */
export async function resolveKey(
  deps: KeyActionDeps,
  target: KeyTarget,
  pick: { title: string; placeHolder: string; query: { status?: 'active'; mine?: boolean }; /** Only keys whose view allows this action are offered. */ only?: keyof KeyView['actions'] },
): Promise<KeyView | undefined> {
  if (target && 'description' in target) return target;
  if (target) {
    try {
      return await deps.service.getKey(target.id);
    } catch (e) {
      await deps.prompter.error(refusalText(e));
      return undefined;
    }
  }
  return deps.prompter.pickKey({
    title: pick.title,
    placeHolder: pick.placeHolder,
    search: async (text) => {
      const page = await deps.service.listKeys({
        limit: PICK_WINDOW,
        ...(text.trim() ? { search: text.trim() } : {}),
        ...(pick.query.status ? { status: pick.query.status } : {}),
        ...(pick.query.mine ? { sub: deps.me.user.id } : {}),
      });
      return pick.only ? page.data.filter((k) => keyViewAt(k, deps.now()).actions[pick.only!]) : page.data;
    },
  });
}

/** Runs a service call; its refusal is shown (text and code) and undefined returned. */
export async function attempt<T>(deps: KeyActionDeps, fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (e) {
    await showRefusal(deps, e);
    return undefined;
  }
}

export async function revokeApiKey(deps: KeyActionDeps, target?: KeyTarget): Promise<KeyView | undefined> {
  // Refuse before asking anything when the user may not revoke at all.
  const may = deps.me.may.revokeKeys;
  if (!may.ok) {
    await deps.prompter.error(`${may.message} (${may.code})`);
    return undefined;
  }
  const key = await resolveKey(deps, target, { title: 'Revoke API Key', placeHolder: 'Search active keys by description, id or owner', query: { status: 'active' } });
  if (!key) return undefined;
  const ok = await deps.prompter.confirm({
    message: `Revoke API key "${key.description}"?`,
    detail: `Owner ${key.sub}, id ${key.id}. Every request with its token is refused from now on. A revoked key can never be used again.`,
    action: 'Revoke',
  });
  if (!ok) return undefined;
  const revoked = await attempt(deps, () => deps.service.revokeKey(key.id));
  if (revoked) await deps.prompter.info(`Revoked API key "${revoked.description}".`);
  return revoked;
}

export async function deleteApiKey(deps: KeyActionDeps, target?: KeyTarget): Promise<boolean> {
  const key = await resolveKey(deps, target, { title: 'Delete API Key', placeHolder: 'Search your keys by description or id', query: { mine: true } });
  if (!key) return false;
  const ok = await deps.prompter.confirm({
    message: `Delete API key "${key.description}"?`,
    detail: `Id ${key.id}. Its token stops working at once and the key disappears from every list. Deleting cannot be undone.`,
    action: 'Delete',
  });
  if (!ok) return false;
  const done = await attempt(deps, async () => {
    await deps.service.deleteKey(key.id);
    return true;
  });
  if (done) await deps.prompter.info(`Deleted API key "${key.description}".`);
  return done === true;
}

export async function renameApiKey(deps: KeyActionDeps, target?: KeyTarget): Promise<KeyView | undefined> {
  const key = await resolveKey(deps, target, { title: 'Rename API Key', placeHolder: 'Search your keys by description or id', query: { mine: true } });
  if (!key) return undefined;
  const text = await deps.prompter.input({
    title: `Rename API Key ${key.id}`,
    prompt: 'New description',
    value: key.description,
    validate: (t) => checkDescription(t)?.message,
  });
  if (text === undefined || text.trim() === key.description) return undefined;
  const renamed = await attempt(deps, () => deps.service.renameKey(key.id, text));
  if (renamed) await deps.prompter.info(`Renamed API key to "${renamed.description}".`);
  return renamed;
}

export async function copyKeyId(deps: KeyActionDeps, target?: KeyTarget): Promise<string | undefined> {
  const key = target?.id ? target : await resolveKey(deps, undefined, { title: 'Copy Key ID', placeHolder: 'Search keys by description, id or owner', query: {} });
  if (!key) return undefined;
  await deps.prompter.copy(key.id);
  await deps.prompter.info(`Copied key id ${key.id}.`);
  return key.id;
}

/**
 * Which way the person can shut off a key they replaced, as its view says
 * they may: revoking (admins) first, else deleting (its owner); nothing for a
 * key that no longer works anyway.
 */
export function shutOffActionFor(view: KeyView, now: number): 'revoke' | 'delete' | undefined {
  const key = keyViewAt(view, now);
  if (key.status !== 'active') return undefined;
  if (key.actions.revoke) return 'revoke';
  if (key.actions.delete) return 'delete';
  return undefined;
}
