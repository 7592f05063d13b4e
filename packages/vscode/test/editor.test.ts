// The thin editor layer, on the `vscode` mock: what the commands, the Keys
// view, the diagnostics, the hover, the quick fixes and the status bar do
// with a real store underneath.

import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { manualClock } from '@keyward/core';
import type { KeyTreeNode } from '../src/key-tree.js';
import { activateOn, keysView, run } from './activate.js';
import { eventually, fileTenant, freshService, tempDir } from './helpers.js';
import { CodeAction, Diagnostic, DiagnosticSeverity, MarkdownString, MockDocument, MockEditor, Position, Selection, TreeItem, Uri, answer, mock } from './mock/vscode.js';

const TOKEN = /kw_[0-9a-f]{24}_[a-z2-7]{32}[0-9a-f]{8}/;

/** A saved file, opened in the editor. */
function openDocument(path: string, text: string): MockDocument {
  writeFileSync(path, text);
  const doc = new MockDocument(Uri.file(path), text);
  mock.documents.push(doc);
  mock.emitters.open.fire(doc);
  return doc;
}

function diagnosticsOf(doc: MockDocument): Diagnostic[] {
  return mock.diagnostics.get('keyward')?.get(doc.uri.toString()) ?? [];
}

async function treeItems(node?: KeyTreeNode): Promise<{ node: KeyTreeNode; item: TreeItem }[]> {
  const v = keysView();
  const nodes = (await v.provider.getChildren(node)) as KeyTreeNode[];
  return nodes.map((n) => ({ node: n, item: v.provider.getTreeItem(n) }));
}

function gitRepoWith(file: string, text: string): string {
  const dir = tempDir();
  const path = join(dir, file);
  writeFileSync(path, text);
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, stdio: 'ignore' });
  git('init', '-q');
  git('add', file);
  git('-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qm', 'leak');
  return path;
}

describe('the Keys view', () => {
  it('shows an admin two sections, with status, expiry and the actions that apply', async () => {
    // Newest first: the keys must not share a creation time.
    const clock = manualClock(Date.now());
    const t = await fileTenant({ clock });
    await t.bob.generateKey({ description: "bob's key" });
    clock.advance(1000);
    await t.alice.generateKey({ description: 'mine' });
    await activateOn({ store: t.path, user: 'alice' });
    const roots = await treeItems();
    expect(roots.map((r) => `${r.item.label} ${r.item.description}`)).toEqual(['My keys 1', 'All keys 2']);
    const all = await treeItems(roots[1].node);
    expect(all.map((r) => r.item.label)).toEqual(['mine', "bob's key"]);
    const bobs = all[1].item;
    expect(bobs.description).toBe('bob · expires in 30d · never used');
    expect(bobs.contextValue).toBe('key active revoke');
    expect(all[0].item.contextValue).toBe('key active rename delete revoke rotate');
    expect(bobs.iconPath?.id).toBe('key');
    expect(keysView().message).toBeUndefined();
  });

  it('says why it is empty when the user is not in the tenant', async () => {
    const t = await fileTenant();
    await activateOn({ store: t.path, user: 'mallory' }, { waitFor: 'nothing' });
    await eventually(async () => {
      expect(await treeItems()).toEqual([]);
      expect(keysView().message).toMatch(/no user "mallory".*\(USER_NOT_FOUND\)/);
    });
    expect(mock.context.get('keyward.connected')).toBe(false);
  });

  it('offers to create a missing store, and works on it once created', async () => {
    const path = join(tempDir(), 'new', 'keyward.json');
    await activateOn({ store: path, user: 'dana' }, { waitFor: 'noStore' });
    expect(await treeItems()).toEqual([]);
    expect(keysView().message).toBe(`There is no Keyward store at ${path}.`);
    answer(({ actions }) => (expect(actions).toEqual(['Create Store']), 'Create Store'));
    await run('keyward.generateKey');
    await eventually(() => expect(mock.context.get('keyward.connected')).toBe(true));
    expect(mock.messages.at(-1)!.message).toMatch(/^Created a Keyward store at .* with you \(dana\) as its first tenant admin/);
  });

  it('reconnects when the settings change', async () => {
    const t = await fileTenant();
    await t.bob.generateKey({ description: "bob's" });
    await activateOn({ store: t.path, user: 'alice' });
    mock.configuration['keyward.user'] = 'bob';
    mock.emitters.configuration.fire({ affectsConfiguration: (s) => s === 'keyward.user' });
    await eventually(async () => expect((await treeItems()).map((r) => r.item.label)).toEqual(["bob's"]));
  });

  it('renames from a row of the view, and loads more rows on demand', async () => {
    const t = await fileTenant();
    await t.alice.updateSettings({ max_keys_per_user: 1000 });
    for (let i = 0; i < 101; i++) await t.bob.generateKey({ description: `k${i}` });
    await activateOn({ store: t.path, user: 'bob' });
    let rows = await treeItems();
    expect(rows).toHaveLength(101);
    const more = rows[100];
    expect(more.item.label).toBe('Load more… (100 of 101)');
    await run(more.item.command!.command, ...(more.item.command!.arguments ?? []));
    rows = await treeItems();
    expect(rows).toHaveLength(101);
    expect(rows.every((r) => r.node.kind === 'key')).toBe(true);

    answer(({ kind, title }) => (expect(kind).toBe('input'), expect(title).toContain('Rename'), 'renamed'));
    await run('keyward.renameKey', rows[0].node);
    const renamed = rows[0].node.kind === 'key' ? rows[0].node.key.id : '';
    // The extension renamed through its own store, as another process would;
    // t.bob's point read may answer from a view up to its follower's poll
    // interval old (50 ms), so the file is read by a store opened now.
    expect((await freshService(t.path, 'bob').getKey(renamed)).description).toBe('renamed');
    await eventually(async () => expect((await treeItems())[0].item.label).toBe('renamed'));
  });

  it('copies a key id from a row', async () => {
    const t = await fileTenant();
    const k = await t.bob.generateKey({ description: 'copy me' });
    await activateOn({ store: t.path, user: 'bob' });
    const [row] = await treeItems();
    await run('keyward.copyKeyId', row.node);
    expect(mock.clipboard).toBe(k.id);
  });
});

describe('Generate API Key from the palette', () => {
  it('inserts a working token at the cursor, and the view lists the new key', async () => {
    const t = await fileTenant();
    await activateOn({ store: t.path, user: 'bob' });
    const doc = openDocument(join(tempDir(), 'app.env'), 'API_TOKEN=\n');
    mock.activeTextEditor = new MockEditor(doc, [new Selection(new Position(0, 10), new Position(0, 10))]);
    answer(
      ({ kind }) => (expect(kind).toBe('input'), 'from the palette'),
      ({ items }) => (expect(items![0].label).toBe('30 days'), /^30 days$/),
      ({ items }) => (expect(items!.map((i) => i.label)).toEqual(['Insert at cursor', 'Copy to clipboard', 'Append to .env']), /Insert at cursor/),
    );
    mock.workspaceFolders = [{ uri: Uri.file(tempDir()), name: 'ws', index: 0 }];
    await run('keyward.generateKey');
    const token = TOKEN.exec(doc.getText())![0];
    expect(doc.getText()).toBe(`API_TOKEN=${token}\n`);
    // Written into the file, which the editor reloaded: never an unsaved editor holding the token.
    expect(readFileSync(doc.uri.fsPath, 'utf8')).toBe(doc.getText());
    expect(doc.isDirty).toBe(false);
    expect(await freshService(t.path, 'alice').verifyToken(token)).toMatchObject({ valid: true, key: { description: 'from the palette', sub: 'bob' } });
    expect(mock.messages.map((m) => m.message).join('\n')).not.toContain(token);
    await eventually(async () => expect((await treeItems()).map((r) => r.item.label)).toEqual(['from the palette']));
  });

  it('replaces the selection', async () => {
    const t = await fileTenant();
    await activateOn({ store: t.path, user: 'bob' });
    const doc = openDocument(join(tempDir(), 'a.ts'), 'const key = "PLACEHOLDER";');
    mock.activeTextEditor = new MockEditor(doc, [new Selection(new Position(0, 13), new Position(0, 24))]);
    answer(
      () => 'selection',
      () => /^30 days$/,
      ({ items }) => (expect(items![0].label).toBe('Replace selection'), /Replace selection/),
    );
    await run('keyward.generateKey');
    expect(doc.getText()).toMatch(/^const key = "kw_[^"]+";$/);
    expect(readFileSync(doc.uri.fsPath, 'utf8')).toBe(doc.getText());
  });

  it('never puts the token into an editor with unsaved changes or an untitled one, and says why', async () => {
    const t = await fileTenant();
    await activateOn({ store: t.path, user: 'bob' });
    const doc = openDocument(join(tempDir(), 'a.ts'), 'const key = "";\n');
    doc.setText('const key = ""; // typed, not saved\n');
    const untitled = new MockDocument(Uri.parse('untitled:Untitled-1'), '');
    for (const [d, why] of [
      [doc, 'a.ts has unsaved changes'],
      [untitled, 'the untitled editor is not saved to a file'],
    ] as const) {
      mock.activeTextEditor = new MockEditor(d, [new Selection(new Position(0, 13), new Position(0, 13))]);
      answer(
        () => 'unsaved',
        () => /^30 days$/,
        ({ items }) => (
          expect(items!.map((i) => i.label)).toEqual(['Copy to clipboard']),
          expect((items![0] as { detail?: string }).detail).toContain(`Not inserted at the cursor: ${why}, and VS Code backs unsaved editors up to disk.`),
          /Copy/
        ),
      );
      await run('keyward.generateKey');
      expect(mock.clipboard).toMatch(TOKEN);
      expect(d.getText()).not.toMatch(TOKEN);
    }
    expect(readFileSync(doc.uri.fsPath, 'utf8')).toBe('const key = "";\n');
  });

  it('shows a refusal with its code, and asks nothing', async () => {
    const t = await fileTenant();
    await activateOn({ store: t.path, user: 'carol' });
    await run('keyward.generateKey');
    expect(mock.messages).toEqual([{ kind: 'error', message: 'You have no Developer role; a tenant admin can assign it. (DEVELOPER_ROLE_REQUIRED)', modal: false }]);
  });
});

describe('tokens in documents', () => {
  it('warns about a revoked token, with a hover and a quick fix to replace it', async () => {
    const t = await fileTenant();
    const k = await t.bob.generateKey({ description: 'old deploy' });
    await t.alice.revokeKey(k.id);
    await activateOn({ store: t.path, user: 'bob' });
    const doc = openDocument(join(tempDir(), 'deploy.sh'), `#!/bin/sh\nexport TOKEN=${k.token}\n`);
    const [d] = await eventually(() => {
      const ds = diagnosticsOf(doc);
      expect(ds).toHaveLength(1);
      return ds;
    });
    expect(d).toMatchObject({ severity: DiagnosticSeverity.Warning, source: 'Keyward', code: 'revoked', message: 'Keyward key "old deploy" was revoked: this token no longer authenticates.' });
    expect(d.range.start).toEqual(new Position(1, 13));
    expect(d.range.end).toEqual(new Position(1, 13 + k.token.length));

    const hover = await mock.hoverProviders[0].provideHover(doc, new Position(1, 20));
    expect(hover!.contents).toBeInstanceOf(MarkdownString);
    expect(hover!.contents.value).toContain('old deploy');
    expect(hover!.contents.value).toContain('— revoked');
    expect(await mock.hoverProviders[0].provideHover(doc, new Position(0, 3))).toBeUndefined();

    const fixes = await mock.codeActionProviders[0].provideCodeActions(doc, d.range, { diagnostics: [d] });
    expect(fixes.map((f: CodeAction) => f.title)).toEqual(['Replace with a new API key']);
    expect(JSON.stringify(fixes)).not.toContain(k.token);

    answer(
      ({ kind, title }) => (expect(kind).toBe('input'), expect(title).toContain('Generate'), 'new deploy'),
      () => /^30 days$/,
    );
    await run(fixes[0].command!.command, ...(fixes[0].command!.arguments ?? []));
    const token = TOKEN.exec(doc.getText())![0];
    expect(token).not.toBe(k.token);
    expect(doc.getText()).toBe(`#!/bin/sh\nexport TOKEN=${token}\n`);
    expect((await freshService(t.path, 'bob').verifyToken(token)).valid).toBe(true);
    await eventually(() => expect(diagnosticsOf(doc)).toEqual([]));
  });

  it('asks nothing and generates nothing when the quick fix\'s document has unsaved changes: the new token would sit in an unsaved editor', async () => {
    const t = await fileTenant();
    const k = await t.bob.generateKey({ description: 'old deploy' });
    await t.alice.revokeKey(k.id);
    await activateOn({ store: t.path, user: 'bob' });
    const doc = openDocument(join(tempDir(), 'deploy.sh'), `export TOKEN=${k.token}\n`);
    const [d] = await eventually(() => {
      const ds = diagnosticsOf(doc);
      expect(ds).toHaveLength(1);
      return ds;
    });
    const [fix] = await mock.codeActionProviders[0].provideCodeActions(doc, d.range, { diagnostics: [d] });
    doc.setText(`# typed, not saved\nexport TOKEN=${k.token}\n`);
    await run(fix.command!.command, ...(fix.command!.arguments ?? []));
    expect(mock.messages.at(-1)).toMatchObject({ kind: 'warning', message: 'deploy.sh has unsaved changes: save it first, then replace the token. A new token is never put in an unsaved editor, which VS Code backs up to disk.' });
    expect(doc.getText()).toBe(`# typed, not saved\nexport TOKEN=${k.token}\n`);
    expect((await t.bob.listKeys({})).data.map((key) => key.id)).toEqual([k.id]);
    // An untitled editor is named as such, at the start of the sentence.
    const untitled = new MockDocument(Uri.parse('untitled:Untitled-1'), `export TOKEN=${k.token}\n`);
    mock.documents.push(untitled);
    await run('keyward.replaceToken', { uri: untitled.uri.toString(), keyId: k.id, line: 0, character: 13, endLine: 0, endCharacter: 13 + k.token.length });
    expect(mock.messages.at(-1)).toMatchObject({ kind: 'warning', message: 'The untitled editor is not saved to a file: save it first, then replace the token. A new token is never put in an unsaved editor, which VS Code backs up to disk.' });
    expect((await t.bob.listKeys({})).data.map((key) => key.id)).toEqual([k.id]);
  });

  it('informs about a live token in a file git tracks, and revoking it from the quick fix turns that into a warning', async () => {
    const t = await fileTenant();
    const k = await t.bob.generateKey({ description: 'leaked' });
    const path = gitRepoWith('config.yml', `token: ${k.token}\n`);
    await activateOn({ store: t.path, user: 'alice' });
    const doc = openDocument(path, `token: ${k.token}\n`);
    const [info] = await eventually(() => {
      const ds = diagnosticsOf(doc);
      expect(ds.map((d) => d.code)).toEqual(['secret-in-source']);
      return ds;
    });
    expect(info.severity).toBe(DiagnosticSeverity.Information);
    const fixes = await mock.codeActionProviders[0].provideCodeActions(doc, info.range, { diagnostics: [info] });
    expect(fixes.map((f: CodeAction) => f.title)).toEqual(['Revoke API key "leaked"', 'Replace with a new API key']);
    answer(({ kind, message, options }) => (expect(kind).toBe('warning-message'), expect(message).toBe('Revoke API key "leaked"?'), expect(options).toMatchObject({ modal: true }), 'Revoke'));
    await run(fixes[0].command!.command, ...(fixes[0].command!.arguments ?? []));
    // Revoked through the extension's store: read by a store opened now, not t.alice's 50 ms view.
    expect((await freshService(t.path, 'alice').getKey(k.id)).status).toBe('revoked');
    await eventually(() => expect(diagnosticsOf(doc).map((d) => [d.code, d.severity])).toEqual([['revoked', DiagnosticSeverity.Warning]]));
  });

  it('says nothing about a live token in a file git does not track', async () => {
    const t = await fileTenant();
    const k = await t.bob.generateKey({ description: 'local only' });
    await activateOn({ store: t.path, user: 'bob' });
    const dir = tempDir();
    const doc = openDocument(join(dir, '.env'), `K=${k.token}\n`);
    const bad = openDocument(join(dir, 'b.txt'), `K=${k.token.slice(0, 40)}${k.token[40] === 'a' ? 'b' : 'a'}${k.token.slice(41)}\n`);
    await eventually(() => expect(diagnosticsOf(bad).map((d) => d.code)).toEqual(['checksum']));
    expect(diagnosticsOf(doc)).toEqual([]);
  });

  it('rescans a document as it is edited, and forgets it when closed', async () => {
    const t = await fileTenant();
    const k = await t.bob.generateKey({ description: 'typed in' });
    await t.bob.deleteKey(k.id);
    await activateOn({ store: t.path, user: 'bob' });
    const doc = openDocument(join(tempDir(), 'x.txt'), 'nothing here\n');
    doc.setText(`pasted ${k.token}\n`);
    mock.emitters.change.fire({ document: doc });
    await eventually(() => expect(diagnosticsOf(doc).map((d) => d.code)).toEqual(['unknown']));
    doc.isClosed = true;
    mock.emitters.close.fire(doc);
    expect(mock.diagnostics.get('keyward')!.has(doc.uri.toString())).toBe(false);
  });
});

describe('the status bar', () => {
  it('counts my keys expiring within 7 days and opens the view on click', async () => {
    const t = await fileTenant();
    await t.bob.generateKey({ description: 'soon', expiry: 'P2D' });
    await t.bob.generateKey({ description: 'later' });
    await activateOn({ store: t.path, user: 'bob' });
    const item = mock.statusBarItems[0];
    await eventually(() => expect(item.text).toBe('$(key) 1 expiring'));
    expect(item.tooltip).toContain('soon');
    expect(item.backgroundColor?.id).toBe('statusBarItem.warningBackground');
    expect(item.visible).toBe(true);
    await run(item.command!);
    expect(mock.executed.map((e) => e.command)).toContain('workbench.view.extension.keyward');
  });

  it('asks to sign in when a server is set and there is no token', async () => {
    await activateOn({ server: 'http://127.0.0.1:9' }, { waitFor: 'needsSignIn' });
    const item = mock.statusBarItems[0];
    await eventually(() => expect(item.command).toBe('keyward.signIn'));
    expect(await treeItems()).toEqual([]);
    expect(keysView().message).toBe('Not signed in to http://127.0.0.1:9.');
  });
});

describe('commands never fail silently', () => {
  it('shows what went wrong, as behaviour §5 text, when the store breaks or a command throws', async () => {
    const t = await fileTenant();
    await activateOn({ store: t.path, user: 'bob' });
    writeFileSync(t.path, '{ broken');
    // A read catches up on the journal alone; a snapshot replaced behind the
    // store's back is noticed by its follower, a moment later.
    await eventually(async () => {
      await run('keyward.deleteKey', { id: 'a'.repeat(24) });
      expect(mock.messages.at(-1)).toMatchObject({ kind: 'error', message: expect.stringContaining('(STORE_CORRUPT)') });
    }, 'the broken store noticed');
    await run('keyward.loadMoreKeys', undefined);
    await run('keyward.replaceToken', { uri: 'file:///gone.txt', line: 0, character: 0, endLine: 0, endCharacter: 1 });
    expect(mock.messages.at(-1)).toMatchObject({ kind: 'error' });
  });

  it('refuses before a range is invented for a token that moved away', async () => {
    const t = await fileTenant();
    const k = await t.bob.generateKey({ description: 'moved' });
    await t.bob.deleteKey(k.id);
    await activateOn({ store: t.path, user: 'bob' });
    const doc = openDocument(join(tempDir(), 'm.txt'), `x ${k.token}\n`);
    const [d] = await eventually(() => {
      const ds = diagnosticsOf(doc);
      expect(ds).toHaveLength(1);
      return ds;
    });
    const [fix] = await mock.codeActionProviders[0].provideCodeActions(doc, d.range, { diagnostics: [d] });
    doc.setText('the token was removed\n');
    await doc.save();
    answer(
      () => 'replacement',
      () => /^30 days$/,
    );
    await run(fix.command!.command, ...(fix.command!.arguments ?? []));
    expect(doc.getText()).toBe('the token was removed\n');
    expect(mock.clipboard).toMatch(TOKEN);
    expect(mock.messages.at(-1)).toMatchObject({ kind: 'warning', message: expect.stringContaining('no longer in the document') });
  });
});
