// Rotate API Key's view of the workspace: the files of every workspace folder
// on disk (an open document is judged by its text in the editor, saved or
// not), and the replacement written straight into each file on disk, never
// through an edit of its document (token-writes.ts says why). A file the
// person has unsaved changes in is left as it is, its old token too.

import * as vscode from 'vscode';
import { join } from 'node:path';
import type { GitFailed } from '@keyward/core';
import type { WorkspaceTokens } from '../flows/rotate.js';
import { type FileWithToken, findKeyInFolder, withTokenReplaced } from '../workspace-tokens.js';
import { throughLinkRefusal } from '../token-links.js';
import { fileText, openFileDocuments, unsavedPaths, writeFileText } from './token-writes.js';

export function workspaceTokens(): WorkspaceTokens {
  return {
    async find(keyId) {
      const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file');
      // One look at the open documents: their texts are read only for the files searched.
      const open = openFileDocuments();
      const found: FileWithToken[] = [];
      const gitFailed: GitFailed[] = [];
      const notSearched: string[] = [];
      for (const folder of folders) {
        const onGitFailed = (why: string) => gitFailed.push({ folder: folder.name, why });
        // The .env Generate writes: a link there is neither searched nor written (token-links.ts), and the person told.
        const linked = throughLinkRefusal(join(folder.uri.fsPath, '.env'), folders.length > 1 ? `${folder.name}/.env` : '.env');
        if (linked) notSearched.push(linked);
        for (const f of await findKeyInFolder(folder.uri.fsPath, keyId, (path) => open.get(path)?.getText(), onGitFailed)) {
          const shown = folders.length > 1 ? { ...f, path: `${folder.name}/${f.path}` } : f;
          found.push(open.get(f.file)?.isDirty ? { ...shown, unsaved: true } : shown);
        }
      }
      return { files: found, gitFailed, notSearched };
    },

    async replace(files, keyId, token) {
      // Asked again now: a file may have gained unsaved changes while the person was asked.
      const unsaved = unsavedPaths();
      const written: vscode.Uri[] = [];
      const left: string[] = [];
      const failed: string[] = [];
      let replaced = 0;
      for (const f of files) {
        if (f.unsaved || unsaved.has(f.file)) {
          left.push(f.path);
          continue;
        }
        const uri = vscode.Uri.file(f.file);
        // Gone or unreadable now: no longer where it was found.
        const text = await fileText(uri).catch(() => undefined);
        // Found again in the text as it is now: it may have changed while the person was asked.
        const changed = text === undefined ? undefined : withTokenReplaced(text, keyId, token);
        if (!changed?.replaced) continue;
        try {
          await writeFileText(uri, changed.text);
        } catch {
          // A full disk, a read-only file: the others are still written, and the person told.
          failed.push(f.path);
          continue;
        }
        replaced += changed.replaced;
        written.push(uri);
      }
      // Shown in editors (without taking focus), read from the disk: where the token changed.
      for (const uri of written) await vscode.window.showTextDocument(uri, { preview: false, preserveFocus: true });
      return { replaced, unsaved: left, failed };
    },
  };
}
