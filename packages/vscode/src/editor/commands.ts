// Every command of the manifest, registered here and nowhere else. A command
// that needs Keyward first makes sure the session is usable, and says what to
// do when it is not (sign in, create the store, fix the settings).

import * as vscode from 'vscode';
import { type KeyService, type KeyView, initStoreAt, parseToken, storeLocation, refusalText } from '@keyward/core';
import { generateApiKey } from '../flows/generate.js';
import { type KeyTarget, copyKeyId, deleteApiKey, renameApiKey, revokeApiKey } from '../flows/key-actions.js';
import { replaceTokenWithNewKey } from '../flows/replace-token.js';
import { rotateApiKey } from '../flows/rotate.js';
import { type SignInDeps, signIn, signOut } from '../flows/sign-in.js';
import { isTrackedByGit } from '../git.js';
import { COMMANDS, VIEW_CONTAINER } from '../ids.js';
import type { KeyLookups } from '../key-lookup.js';
import type { KeyTreeNode } from '../key-tree.js';
import type { Prompter } from '../prompter.js';
import type { Session } from '../session.js';
import { findTokens } from '../token-findings.js';
import { tokenDestinations } from './destinations.js';
import { documentName, whyNotWritable, writeIntoDocument } from './token-writes.js';
import type { KeysView } from './keys-view.js';
import { workspaceTokens } from './workspace-tokens.js';
import { connectionSettings, saveServerSetting } from './settings.js';
import type { TokenPlace } from './token-quick-fixes.js';

export interface CommandWiring {
  session: Session;
  prompter: Prompter;
  keysView: KeysView;
  lookups: KeyLookups;
  secrets: vscode.SecretStorage;
  openServer: (url: string, token: string) => KeyService | Promise<KeyService>;
  /** Re-reads the session and redraws every view. */
  reload: () => Promise<unknown>;
  now: () => number;
}

/** A row of the Keys view, a quick fix's `{id}`, or nothing (the palette). */
export function keyTargetOf(arg: unknown): KeyTarget {
  if (!arg || typeof arg !== 'object') return undefined;
  const a = arg as Partial<KeyTreeNode> & { id?: unknown; description?: unknown };
  if (a.kind === 'key' && 'key' in a) return a.key as KeyView;
  if (typeof a.id === 'string') return typeof a.description === 'string' ? (a as KeyView) : { id: a.id };
  return undefined;
}

export function registerCommands(w: CommandWiring): vscode.Disposable[] {
  const { session, prompter } = w;

  /** The ready session, or undefined after telling the person what is missing. */
  async function ready() {
    const r = session.ready;
    if (r) return r;
    const state = session.state;
    if (state.status === 'needs-sign-in') {
      if ((await prompter.warn(`Sign in to ${state.target.url} first.`, 'Sign In')) === 'Sign In') await vscode.commands.executeCommand(COMMANDS.signIn);
    } else if (state.status === 'no-store') {
      if ((await prompter.warn(`There is no Keyward store at ${state.target.path}.`, 'Create Store')) === 'Create Store') await vscode.commands.executeCommand(COMMANDS.createStore);
    } else if (state.status === 'failed') {
      await prompter.error(state.message);
    } else {
      await prompter.warn('Keyward is still connecting; try again in a moment.');
    }
    return undefined;
  }

  const deps = (r: NonNullable<Session['ready']>) => ({ service: r.service, me: r.me, prompter, now: w.now, isTracked: isTrackedByGit, reload: w.reload });

  const signInDeps: SignInDeps = {
    prompter,
    configuredServer: () => connectionSettings().server,
    saveServer: saveServerSetting,
    storeSecret: (k, v) => Promise.resolve(w.secrets.store(k, v)),
    deleteSecret: (k) => Promise.resolve(w.secrets.delete(k)),
    openServer: w.openServer,
  };

  /** Runs a key action, then redraws everything it may have changed. */
  const keyCommand = (action: (d: ReturnType<typeof deps>, target: KeyTarget) => Promise<unknown>) => async (arg?: unknown) => {
    const r = await ready();
    if (!r) return;
    const result = await action(deps(r), keyTargetOf(arg));
    if (result) await w.reload();
  };

  const handlers: Record<(typeof COMMANDS)[keyof typeof COMMANDS], (...args: any[]) => unknown> = {
    [COMMANDS.generateKey]: async () => {
      const r = await ready();
      if (!r) return;
      const done = await generateApiKey(deps(r), tokenDestinations());
      if (done) await w.reload();
    },
    [COMMANDS.revokeKey]: keyCommand(revokeApiKey),
    [COMMANDS.deleteKey]: keyCommand(deleteApiKey),
    [COMMANDS.renameKey]: keyCommand(renameApiKey),
    // The destinations are taken before the first question moves focus away from the editor.
    [COMMANDS.rotateKey]: async (arg?: unknown) => {
      const destinations = tokenDestinations();
      await keyCommand((d, target) => rotateApiKey({ ...d, workspace: workspaceTokens(), destinations }, target))(arg);
    },
    [COMMANDS.copyKeyId]: keyCommand(async (d, target) => {
      await copyKeyId(d, target);
      return false;
    }),
    [COMMANDS.refresh]: () => w.reload(),
    [COMMANDS.showKeys]: () => vscode.commands.executeCommand(`workbench.view.extension.${VIEW_CONTAINER}`),
    [COMMANDS.signIn]: () => signIn(signInDeps),
    [COMMANDS.signOut]: () => signOut(signInDeps),
    [COMMANDS.createStore]: async () => {
      const state = session.state;
      if (state.status !== 'no-store') {
        await prompter.info(state.status === 'ready' && state.target.kind === 'local' ? `The Keyward store at ${storeLocation(state.target.path)} exists already.` : 'Keyward is not set up for a local store (keyward.server is set).');
        return;
      }
      const { path, actor } = state.target;
      try {
        await initStoreAt(path, { admin: actor });
      } catch (e) {
        await prompter.error(refusalText(e));
        return;
      }
      await session.connect();
      await prompter.info(`Created a Keyward store at ${storeLocation(path)} with you (${actor}) as its first tenant admin. API keys are off until an admin turns them on: keyward settings set --enabled on, then keyward users set ${actor} --developer on.`);
    },
    [COMMANDS.loadMoreKeys]: (node?: KeyTreeNode) => w.keysView.loadMore(node),
    [COMMANDS.replaceToken]: async (place?: TokenPlace) => {
      const r = await ready();
      if (!r || !place) return;
      const doc = await vscode.workspace.openTextDocument(vscode.Uri.parse(place.uri));
      // Asked before a key is generated: its token could not go into this document.
      const why = whyNotWritable(doc, documentName(doc, true));
      if (why) {
        await prompter.warn(`${why}: save it first, then replace the token. A new token is never put in an unsaved editor, which VS Code backs up to disk.`);
        return;
      }
      const lookup = place.keyId ? await w.lookups.lookup(place.keyId) : undefined;
      const replaced = await replaceTokenWithNewKey({ ...deps(r), replace: (token) => replaceAt(doc, place, token) }, lookup?.kind === 'found' ? lookup.key : undefined);
      if (replaced) await w.reload();
    },
  };

  return Object.entries(handlers).map(([id, fn]) =>
    vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      try {
        return await fn(...args);
      } catch (e) {
        // Anything a flow did not handle still reaches the person, as behaviour §5 text.
        void vscode.window.showErrorMessage(refusalText(e));
      }
    }),
  );
}

/** Puts a token where an old one was, in the file on disk; the old one is found again if edits moved it. */
async function replaceAt(doc: vscode.TextDocument, place: TokenPlace, token: string): Promise<boolean> {
  if (doc.isClosed) return false;
  let range = new vscode.Range(place.line, place.character, place.endLine, place.endCharacter);
  const there = doc.getText(range);
  const same = (text: string) => {
    const p = parseToken(text);
    return place.keyId ? p.ok && p.keyId === place.keyId : !p.ok && findTokens(text).length === 1;
  };
  if (!same(there)) {
    const moved = place.keyId ? findTokens(doc.getText()).find((f) => f.keyId === place.keyId) : undefined;
    if (!moved) return false;
    range = new vscode.Range(doc.positionAt(moved.start), doc.positionAt(moved.end));
  }
  return writeIntoDocument(doc, [range], token);
}
