// Rotate API Key's view of the workspace: the files of every workspace folder
// on disk (an open document is judged by its text in the editor, saved or
// not), and the replacement written straight into each file on disk.
//
// Never through an edit of the document: an edit leaves the document unsaved
// until it is saved, and VS Code backs every unsaved document up to its own
// folder (hot exit, User/Backups) a second after it changes — under load
// before the save — which puts the new token on disk where nobody asked for
// it. A file is read, its old tokens replaced and written back as one write
// through vscode.workspace.fs; an editor showing it reloads it from disk and
// is never unsaved. A file the person has unsaved changes in is left as it is
// (its old token too): writing it would mean saving their changes unasked, and
// the token must not sit in their unsaved editor either.

import * as vscode from 'vscode';
import type { WorkspaceTokens } from '../flows/rotate.js';
import { type FileWithToken, findKeyInFolder, withTokenReplaced } from '../workspace-tokens.js';

/** The open file documents with unsaved changes, by path. */
function unsavedPaths(): Set<string> {
  return new Set(vscode.workspace.textDocuments.filter((d) => d.uri.scheme === 'file' && d.isDirty).map((d) => d.uri.fsPath));
}

/**
 * The file's text, when its bytes are exactly UTF-8 text (so writing the text
 * back changes nothing but the token) and it is not a link; else undefined.
 */
async function textOf(uri: vscode.Uri): Promise<string | undefined> {
  if ((await vscode.workspace.fs.stat(uri)).type !== vscode.FileType.File) return undefined;
  const bytes = Buffer.from(await vscode.workspace.fs.readFile(uri));
  const text = bytes.toString('utf8');
  return Buffer.from(text, 'utf8').equals(bytes) ? text : undefined;
}

export function workspaceTokens(): WorkspaceTokens {
  return {
    async find(keyId) {
      const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file');
      const open = new Map(vscode.workspace.textDocuments.filter((d) => d.uri.scheme === 'file').map((d) => [d.uri.fsPath, d.getText()]));
      const unsaved = unsavedPaths();
      const found: FileWithToken[] = [];
      for (const folder of folders) {
        for (const f of await findKeyInFolder(folder.uri.fsPath, keyId, (path) => open.get(path))) {
          const shown = folders.length > 1 ? { ...f, path: `${folder.name}/${f.path}` } : f;
          found.push(unsaved.has(f.file) ? { ...shown, unsaved: true } : shown);
        }
      }
      return found;
    },

    async replace(files, keyId, token) {
      // Asked again now: a file may have gained unsaved changes while the person was asked.
      const unsaved = unsavedPaths();
      const written: vscode.Uri[] = [];
      const left: string[] = [];
      let replaced = 0;
      for (const f of files) {
        if (f.unsaved || unsaved.has(f.file)) {
          left.push(f.path);
          continue;
        }
        const uri = vscode.Uri.file(f.file);
        const text = await textOf(uri);
        // Found again in the text as it is now: it may have changed while the person was asked.
        const changed = text === undefined ? undefined : withTokenReplaced(text, keyId, token);
        if (!changed?.replaced) continue;
        await vscode.workspace.fs.writeFile(uri, Buffer.from(changed.text, 'utf8'));
        replaced += changed.replaced;
        written.push(uri);
      }
      // Shown in editors (without taking focus), read from the disk: where the token changed.
      for (const uri of written) await vscode.window.showTextDocument(uri, { preview: false, preserveFocus: true });
      return { replaced, unsaved: left };
    },
  };
}
