// Keyward: Rotate API Key. Replaces a key's token without downtime: asks how
// long the old token keeps working (the overlap, core's choices), looks for
// the old token in the workspace's files (.env files too), and shows where.
// Everything is asked before the key is rotated, so cancelling loses nothing;
// then the key is rotated and the new token put over every occurrence of the
// old one, written into each file at once (never left in an unsaved editor,
// which VS Code would back up to disk), or, when there is none or the person
// would rather not, inserted at the cursor or copied, as Generate does. A file
// with unsaved changes of the person's own is left as it is, and the new token
// copied for it. The new token is never shown or logged: it goes straight to
// where it was asked for.

import type { PickItem } from '../prompter.js';
import { type GitFailed, type KeyView, checkOverlap, gitFallbackText, keyViewAt, overlapChoices, relativeTime, rotateRefusalText } from '@keyward/core';
import { timeText } from '../time-text.js';
import type { FileWithToken } from '../workspace-tokens.js';
import { type Placement, type TokenDestinations, insertOrCopy, placementItems } from './generate.js';
import { type KeyActionDeps, type KeyTarget, attempt, resolveKey } from './key-actions.js';

/** The workspace's files, as Rotate sees them. */
export interface WorkspaceTokens {
  /**
   * The files holding a token of key `keyId` (none without a workspace folder), and the folders git could not
   * list, searched by their .gitignore files instead (core's filesOfFolder decides), and why a folder's .env was
   * not searched (a symbolic link, token-links.ts): the person is told both.
   */
  find(keyId: string): Promise<{ files: FileWithToken[]; gitFailed: GitFailed[]; notSearched?: string[] }>;
  /**
   * Puts `token` over every token of key `keyId` in those files, written to
   * disk at once: how many tokens were replaced (0 when the files no longer
   * hold one), the files left as they were because they have unsaved
   * changes in an editor, and those the disk refused to write (as shown: `path`).
   */
  replace(files: FileWithToken[], keyId: string, token: string): Promise<{ replaced: number; unsaved: string[]; failed: string[] }>;
}

export interface RotateDeps extends KeyActionDeps {
  workspace: WorkspaceTokens;
  destinations: TokenDestinations;
}

/** How many file:line places the question lists before saying "and N more". */
const LISTED = 15;

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The places, one per line: `.env:1`, `src/app.js:3`. */
export function whereText(files: FileWithToken[]): string {
  const places = files.flatMap((f) => f.spots.map((s) => `${f.path}:${s.line}`));
  const shown = places.slice(0, LISTED);
  if (places.length > LISTED) shown.push(`…and ${places.length - LISTED} more`);
  return shown.join('\n');
}

async function askOverlap(deps: RotateDeps, key: KeyView): Promise<string | undefined> {
  const title = `Rotate API Key "${key.description}"`;
  const items: PickItem<{ iso?: string }>[] = overlapChoices().map((c) => ({
    label: c.label,
    description: c.iso,
    detail: c.iso === 'PT0S' ? 'The old token is refused from the moment the new one exists.' : `The old token keeps working for ${c.label}${c.default ? ' (the default)' : ''}, so whatever holds it can be moved over.`,
    value: { iso: c.iso },
  }));
  items.push({ label: 'Other…', detail: 'Type a duration: PT30M, 2h, P3D…', value: {} });
  const picked = await deps.prompter.pick({ title, placeHolder: 'How long should the old token keep working?', items });
  if (!picked || picked.iso) return picked?.iso;
  const typed = await deps.prompter.input({
    title,
    prompt: 'How long the old token keeps working: an ISO 8601 duration (PT30M, P1D; PT0S ends it at once) or 30m, 2h, 3d',
    placeHolder: 'PT30M',
    validate: (t) => {
      const r = checkOverlap(t);
      return r.ok ? undefined : r.refusal.message;
    },
  });
  return typed?.trim();
}

/**
 * Where the new token goes: over the old one in the workspace (true), or the
 * editor or clipboard (a placement); undefined when the person cancels.
 * `searched`: what to know about where was looked (git could not list a
 * folder, a linked .env), said before anything is rotated.
 */
async function askDestination(deps: RotateDeps, files: FileWithToken[], searched: string[]): Promise<true | Placement | undefined> {
  const saved = files.filter((f) => !f.unsaved);
  if (saved.length > 0) {
    const spots = saved.reduce((n, f) => n + f.spots.length, 0);
    const unsaved = files.filter((f) => f.unsaved);
    const left = unsaved.length > 0 ? `\n\nLeft as they are, with unsaved changes in an editor (the new token is copied for them): ${unsaved.map((f) => f.path).join(', ')}.` : '';
    const replace = await deps.prompter.confirm({
      message: `Replace the old token in ${plural(spots, 'place')} with the new one?`,
      detail: `${whereText(saved)}${left}\n\nEvery file is written at once. Not now: insert the new token at the cursor or copy it instead.${searched.map((s) => `\n\n${s}`).join('')}`,
      action: 'Replace All',
    });
    if (replace) return true;
  }
  return deps.prompter.pick({
    title: 'Rotate API Key: where should the new token go?',
    placeHolder:
      files.length === 0
        ? 'The old token is not in the workspace; the new token is shown only once'
        : saved.length === 0
          ? `The old token is only in files with unsaved changes, left as they are (${files.map((f) => f.path).join(', ')}); the new token is shown only once`
          : 'The new token is shown only once',
    items: placementItems(deps.destinations, { env: false }),
  });
}

/** When the old token stops working, as a sentence. */
function oldTokenEnds(old: KeyView | undefined, now: number): string {
  if (!old) return 'The old token works for the overlap, then is refused.';
  if (keyViewAt(old, now).status !== 'active') return 'The old token is refused from now on.';
  return `The old token works until ${timeText(old.expiry)} (${relativeTime(old.expiry, now)}), then is refused.`;
}

export async function rotateApiKey(deps: RotateDeps, target?: KeyTarget): Promise<KeyView | undefined> {
  const key = await resolveKey(deps, target, { title: 'Rotate API Key', placeHolder: 'Search your active keys by description or id', query: { status: 'active', mine: true }, only: 'rotate' });
  if (!key) return undefined;
  // Core says, in the key's view, whether this viewer may rotate it; nothing is asked when not.
  const now = keyViewAt(key, deps.now());
  if (!now.actions.rotate) {
    await deps.prompter.error(rotateRefusalText(now, deps.me.user.name, deps.me.canGenerate));
    return undefined;
  }
  const overlap = await askOverlap(deps, key);
  if (overlap === undefined) return undefined;
  // Looked for before rotating, so the person sees where it goes and can still cancel.
  const found = await attempt(deps, () => deps.workspace.find(key.id));
  if (!found) return undefined;
  const { files } = found;
  const searched = [...found.gitFailed.map(gitFallbackText), ...(found.notSearched ?? []).map((why) => `Not searched: ${why}.`)];
  const destination = await askDestination(deps, files, searched);
  if (destination === undefined) return undefined;

  const rotated = await attempt(deps, () => deps.service.rotateKey(key.id, overlap));
  if (!rotated) return undefined;
  const { token, ...created } = rotated;
  // The new token is placed even if reading the old key back fails: it is never shown again.
  const old = await deps.service.getKey(key.id).catch(() => undefined);
  // Said again last, after when the old token ends: the places searched were not the files git would list, or not all.
  const linked = found.notSearched ?? [];
  const ends = [oldTokenEnds(old, deps.now()), ...searched].join(' ');
  const done = `Rotated API key "${created.description}".`;

  if (destination === true) {
    const none = { replaced: 0, unsaved: [] as string[], failed: [] as string[] };
    const { replaced, unsaved, failed } = await deps.workspace.replace(files, key.id, token).catch(() => none);
    const missed = [...unsaved.map((p) => `${p} has unsaved changes`), ...failed.map((p) => `${p} could not be written`)];
    if (replaced > 0 && missed.length === 0 && linked.length === 0) {
      await deps.prompter.info(`${done} The new token replaced the old one in ${plural(replaced, 'place')}. ${ends}`);
      return created;
    }
    // Wherever it did not go (a linked .env may hold the old token too), the person puts it: it is never shown again.
    await deps.prompter.copy(token);
    const what =
      missed.length === 0
        ? replaced === 0
          ? 'The old token was no longer where it was found, so the new token was copied to the clipboard instead'
          : `The new token replaced the old one in ${plural(replaced, 'place')}, and was copied to the clipboard for what the link below leads to`
        : `The new token replaced the old one in ${plural(replaced, 'place')}, not where ${missed.join(' and ')}: the old token there was left, and the new token copied to the clipboard`;
    await deps.prompter.warn(`${done} ${what}; it will not be shown again. ${ends}`);
    return created;
  }
  await deps.prompter.info(`${done} ${await insertOrCopy(deps.prompter, deps.destinations, destination, token)} ${ends}`);
  return created;
}
