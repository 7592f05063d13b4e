// How the extension puts a token into a file: written into the file on disk at
// once, through vscode.workspace.fs, never by an edit of its document. An edit
// leaves the document unsaved until it is saved, and VS Code backs every
// unsaved document up to a folder of its own (hot exit: User/Backups) a second
// or two after it changes — under load before the save — which puts the token
// on disk where nobody asked for it. An editor showing the file reloads it from
// the disk and is never unsaved. A document with unsaved changes of the
// person's own is never written to: that would save their changes unasked,
// and the token must not sit in their unsaved editor either.

import * as vscode from 'vscode';
import { basename } from 'node:path';

/** How a message names a document: its file's name, or "the untitled editor" ("The…" to begin a sentence). */
export function documentName(doc: vscode.TextDocument, beginsSentence = false): string {
  if (!doc.isUntitled) return basename(doc.uri.fsPath);
  return beginsSentence ? 'The untitled editor' : 'the untitled editor';
}

/** Why a token cannot be written into this document ("a.txt has unsaved changes"), naming it `name`; undefined when it can. */
export function whyNotWritable(doc: vscode.TextDocument, name = documentName(doc)): string | undefined {
  if (doc.uri.scheme !== 'file') return `${name} is not saved to a file`;
  if (doc.isDirty) return `${name} has unsaved changes`;
  return undefined;
}

/** The open documents of files, by path. */
export function openFileDocuments(): Map<string, vscode.TextDocument> {
  return new Map(vscode.workspace.textDocuments.filter((d) => d.uri.scheme === 'file').map((d) => [d.uri.fsPath, d]));
}

/** The open file documents with unsaved changes, by path. */
export function unsavedPaths(): Set<string> {
  return new Set([...openFileDocuments()].filter(([, d]) => d.isDirty).map(([path]) => path));
}

/**
 * The file's text, when it is a regular file (not a link) whose bytes are
 * exactly UTF-8 text, so that writing the text back changes nothing but the
 * token; else undefined.
 */
export async function fileText(uri: vscode.Uri): Promise<string | undefined> {
  if ((await vscode.workspace.fs.stat(uri)).type !== vscode.FileType.File) return undefined;
  const bytes = Buffer.from(await vscode.workspace.fs.readFile(uri));
  const text = bytes.toString('utf8');
  return Buffer.from(text, 'utf8').equals(bytes) ? text : undefined;
}

export async function writeFileText(uri: vscode.Uri, text: string): Promise<void> {
  await vscode.workspace.fs.writeFile(uri, Buffer.from(text, 'utf8'));
}

/**
 * Puts `text` over each range of a saved document, in its file on disk; false
 * (nothing written) when the document is closed, not a file, has unsaved
 * changes, or its text is no longer the file's.
 */
export async function writeIntoDocument(doc: vscode.TextDocument, ranges: readonly vscode.Range[], text: string): Promise<boolean> {
  if (doc.isClosed || whyNotWritable(doc, '')) return false;
  const onDisk = await fileText(doc.uri);
  // The editor does not show a byte order mark; the file keeps it.
  const bom = onDisk?.startsWith('\uFEFF') ? 1 : 0;
  if (onDisk === undefined || onDisk.slice(bom) !== doc.getText()) return false;
  // From the last range back, so the earlier offsets still hold.
  const spans = ranges.map((r) => ({ start: doc.offsetAt(r.start) + bom, end: doc.offsetAt(r.end) + bom })).sort((a, b) => b.start - a.start);
  await writeFileText(doc.uri, spans.reduce((t, s) => t.slice(0, s.start) + text + t.slice(s.end), onDisk));
  return true;
}
