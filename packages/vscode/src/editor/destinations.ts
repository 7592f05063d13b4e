// Where a new token can go right now: the active editor (at its cursors, over
// its selections) and the .env file of its workspace folder.

import * as vscode from 'vscode';
import { basename, join } from 'node:path';
import type { TokenDestinations } from '../flows/generate.js';

export function tokenDestinations(): TokenDestinations {
  const editor = vscode.window.activeTextEditor;
  const folder = editor ? (vscode.workspace.getWorkspaceFolder(editor.document.uri) ?? vscode.workspace.workspaceFolders?.[0]) : vscode.workspace.workspaceFolders?.[0];
  const to: TokenDestinations = {};
  if (folder && folder.uri.scheme === 'file') to.envFile = join(folder.uri.fsPath, '.env');
  if (editor) {
    // Captured now: answering the questions moves focus away from the editor.
    const doc = editor.document;
    const selections = [...editor.selections];
    to.editor = {
      label: selections.every((s) => s.isEmpty) ? 'Insert at cursor' : 'Replace selection',
      file: doc.isUntitled ? 'the untitled editor' : basename(doc.uri.fsPath),
      put: async (token) => {
        if (doc.isClosed) return false;
        const visible = vscode.window.visibleTextEditors.find((e) => e.document === doc);
        if (visible) return visible.edit((b) => selections.forEach((s) => b.replace(s, token)));
        const edit = new vscode.WorkspaceEdit();
        for (const s of selections) edit.replace(doc.uri, s, token);
        return vscode.workspace.applyEdit(edit);
      },
    };
  }
  return to;
}
