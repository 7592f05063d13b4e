// Where a new token can go right now: the active editor (at its cursors, over
// its selections) and the .env file of its workspace folder. The editor only
// when it shows a saved file: the token is written into the file on disk,
// never left in an unsaved editor (token-writes.ts says why).

import * as vscode from 'vscode';
import { join } from 'node:path';
import type { TokenDestinations } from '../flows/generate.js';
import { documentName, whyNotWritable, writeIntoDocument } from './token-writes.js';

export function tokenDestinations(): TokenDestinations {
  const editor = vscode.window.activeTextEditor;
  const folder = editor ? (vscode.workspace.getWorkspaceFolder(editor.document.uri) ?? vscode.workspace.workspaceFolders?.[0]) : vscode.workspace.workspaceFolders?.[0];
  const to: TokenDestinations = {};
  if (folder && folder.uri.scheme === 'file') to.envFile = join(folder.uri.fsPath, '.env');
  if (editor) {
    // Captured now: answering the questions moves focus away from the editor.
    const doc = editor.document;
    const selections = [...editor.selections];
    const file = documentName(doc);
    const why = whyNotWritable(doc, file);
    if (why) to.notEditor = why;
    else
      to.editor = {
        label: selections.every((s) => s.isEmpty) ? 'Insert at cursor' : 'Replace selection',
        file,
        put: (token) => writeIntoDocument(doc, selections, token),
      };
  }
  return to;
}
