// Rotate API Key's view of the workspace: the files of every workspace folder
// on disk (an open document is judged by its text in the editor, saved or
// not), and the replacement as one WorkspaceEdit, so one undo reverts it in
// every file (while the editors it opens stay open).

import * as vscode from 'vscode';
import type { WorkspaceTokens } from '../flows/rotate.js';
import { type FileWithToken, findKeyInFolder, spotsOfKey } from '../workspace-tokens.js';

export function workspaceTokens(): WorkspaceTokens {
  return {
    async find(keyId) {
      const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file');
      const open = new Map(vscode.workspace.textDocuments.filter((d) => d.uri.scheme === 'file').map((d) => [d.uri.fsPath, d.getText()]));
      const found: FileWithToken[] = [];
      for (const folder of folders) {
        for (const f of await findKeyInFolder(folder.uri.fsPath, keyId, (path) => open.get(path))) {
          found.push(folders.length > 1 ? { ...f, path: `${folder.name}/${f.path}` } : f);
        }
      }
      return found;
    },

    async replace(files, keyId, token) {
      const edit = new vscode.WorkspaceEdit();
      const docs: { doc: vscode.TextDocument; wasDirty: boolean }[] = [];
      let replaced = 0;
      for (const f of files) {
        const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(f.file));
        // Found again in the text as it is now: it may have changed while the person was asked.
        const spots = spotsOfKey(doc.getText(), keyId);
        for (const s of spots) edit.replace(doc.uri, new vscode.Range(doc.positionAt(s.start), doc.positionAt(s.end)), token);
        replaced += spots.length;
        if (spots.length > 0) docs.push({ doc, wasDirty: doc.isDirty });
      }
      if (replaced === 0 || !(await vscode.workspace.applyEdit(edit))) return 0;
      for (const { doc, wasDirty } of docs) {
        // Shown in an editor (without taking focus) first: that shows where the
        // token changed, and holds the file open. A saved file that no editor
        // shows is let go, and with it the one undo of the whole edit.
        await vscode.window.showTextDocument(doc, { preview: false, preserveFocus: true });
        // Saved, so programs reading the file get the new token; a file with the
        // person's own unsaved changes is left for them to save.
        if (!wasDirty) await doc.save();
      }
      return replaced;
    },
  };
}
