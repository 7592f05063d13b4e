// The extension's entry point: builds the session, the views and the
// providers, and connects them. Every view redraws when the session changes;
// the session changes on a setting, a secret, a store or server change, or
// after an action.

import * as vscode from 'vscode';
import { type KeyService, openService, safeText } from '@keyward/core';
import { registerCommands } from './editor/commands.js';
import { KeysView } from './editor/keys-view.js';
import { EditorPrompter } from './editor/prompter.js';
import { affectsConnection, connectionSettings, refreshEveryMs, workspaceDir } from './editor/settings.js';
import { ExpiryStatusBar } from './editor/status-bar.js';
import { TokenDiagnostics } from './editor/token-diagnostics.js';
import { TokenHover } from './editor/token-hover.js';
import { TokenQuickFixes } from './editor/token-quick-fixes.js';
import { CONTEXT } from './ids.js';
import { KeyLookups } from './key-lookup.js';
import { startLiveRefresh } from './live-refresh.js';
import { openServer } from './remote.js';
import { Session, type SessionState } from './session.js';

const ALL_DOCUMENTS: vscode.DocumentSelector = [{ scheme: 'file' }, { scheme: 'untitled' }];

let active: Session | undefined;

/**
 * A JSON store's path or a postgres:// URL (core decides which). A missing
 * JSON store is the session's "no store" state, offered Create Store, before
 * this is asked; a database with no Keyward store in it is refused here.
 */
function openLocal(path: string, actor: string): Promise<KeyService> {
  return openService({ store: path, actor, missing: { advice: 'create one there with `keyward init --store URL`' } });
}

function setContexts(state: SessionState): void {
  const set = (key: string, value: boolean) => void vscode.commands.executeCommand('setContext', key, value);
  set(CONTEXT.connected, state.status === 'ready');
  set(CONTEXT.needsSignIn, state.status === 'needs-sign-in');
  set(CONTEXT.signedIn, state.status === 'ready' && state.target.kind === 'server');
  set(CONTEXT.noStore, state.status === 'no-store');
}

/** A server connection that warns, in a notification, when its token is about to end. */
function openServerWarning(url: string, token: string): Promise<KeyService> {
  return openServer(url, token, (message) => void vscode.window.showWarningMessage(safeText(message)));
}

export function activate(context: vscode.ExtensionContext): void {
  const now = () => Date.now();
  const session = new Session({
    settings: connectionSettings,
    workspaceDir,
    readSecret: (key) => Promise.resolve(context.secrets.get(key)),
    openLocal,
    openServer: openServerWarning,
  });
  active = session;
  const lookups = new KeyLookups(() => session.ready?.service);
  const keysView = new KeysView(session, now);
  const diagnostics = new TokenDiagnostics(lookups, now);
  const statusBar = new ExpiryStatusBar(session, now);
  const reload = () => session.refresh();

  const redraw = session.changed.on((state) => {
    setContexts(state);
    lookups.clear();
    keysView.refresh();
    void diagnostics.rescanAll();
    void statusBar.update();
  });

  context.subscriptions.push(
    keysView,
    diagnostics,
    statusBar,
    redraw,
    ...registerCommands({ session, prompter: new EditorPrompter(), keysView, lookups, secrets: context.secrets, openServer: openServerWarning, reload, now }),
    vscode.languages.registerHoverProvider(ALL_DOCUMENTS, new TokenHover(lookups, now)),
    vscode.languages.registerCodeActionsProvider(ALL_DOCUMENTS, new TokenQuickFixes(lookups), TokenQuickFixes.metadata),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (affectsConnection(e)) void session.connect();
    }),
    // Other windows sign in and out too: secrets are shared between them.
    context.secrets.onDidChange((e) => {
      if (e.key.startsWith('keyward.token:')) void session.connect();
    }),
    startLiveRefresh({ session, everyMs: refreshEveryMs, reload }),
  );

  setContexts(session.state);
  void session.connect();
}

export async function deactivate(): Promise<void> {
  await active?.close();
  active = undefined;
}
