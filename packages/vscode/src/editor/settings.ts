// The extension's settings, read fresh each time (they change under it).

import * as vscode from 'vscode';
import type { ConnectionSettings } from '../connection.js';
import { SETTINGS_SECTION } from '../ids.js';

export function connectionSettings(): ConnectionSettings {
  const c = vscode.workspace.getConfiguration(SETTINGS_SECTION);
  return { store: c.get<string>('store') ?? '', user: c.get<string>('user') ?? '', server: c.get<string>('server') ?? '' };
}

/** How often to poll, in ms; the manifest's minimum of 5 s holds even for a hand-edited value. */
export function refreshEveryMs(): number {
  const s = vscode.workspace.getConfiguration(SETTINGS_SECTION).get<number>('refreshSeconds') ?? 30;
  // At most a timer's longest wait (~24.8 days): a longer one fires at once, in Node as in browsers.
  return Math.min(2 ** 31 - 1, Math.max(5, Number.isFinite(s) ? s : 30) * 1000);
}

export function affectsConnection(e: vscode.ConfigurationChangeEvent): boolean {
  return ['store', 'user', 'server'].some((k) => e.affectsConfiguration(`${SETTINGS_SECTION}.${k}`));
}

export async function saveServerSetting(url: string): Promise<void> {
  await vscode.workspace.getConfiguration(SETTINGS_SECTION).update('server', url, vscode.ConfigurationTarget.Global);
}

export function workspaceDir(): string | undefined {
  const f = vscode.workspace.workspaceFolders?.[0];
  return f && f.uri.scheme === 'file' ? f.uri.fsPath : undefined;
}
