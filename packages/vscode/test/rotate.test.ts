// Rotate API Key without VS Code: finding a key's old token in a real folder
// (a git work tree with an ignored .env, and a plain folder), and the flow on
// a real engine — rotated through the service, every occurrence replaced,
// the old token refused once its overlap is over, nothing lost on a cancel.

import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type GitFailed, type KeyService, KeywardError, createRemoteService, manualClock, parseToken } from '@keyward/core';
import { startServer } from '@keyward/server';
import { workspaceTokens } from '../src/editor/workspace-tokens.js';
import type { TokenDestinations } from '../src/flows/generate.js';
import { type RotateDeps, type WorkspaceTokens, rotateApiKey, whereText } from '../src/flows/rotate.js';
import { type FileWithToken, MAX_FILE_BYTES, filesToSearch, findKeyInFolder, isEnvFile, spotsOfKey, withTokenReplaced } from '../src/workspace-tokens.js';
import { type Tenant, fileTenant, freshService, tempDir, tenant } from './helpers.js';
import { MockDocument, Uri, mock, resetMock, workspace } from './mock/vscode.js';
import { ScriptedPrompter, type Step } from './scripted-prompter.js';

const TOKEN = /kw_[0-9a-f]{24}_[a-z2-7]{32}[0-9a-f]{8}/g;

async function newToken(service: KeyService, description = 'deploy'): Promise<{ token: string; id: string }> {
  const { token, id } = await service.generateKey({ description });
  return { token, id };
}

/** The token with its checksum broken: right prefix and shape, not a token. */
function damaged(token: string): string {
  const last = token.at(-1) === '0' ? '1' : '0';
  return token.slice(0, -1) + last;
}

/** A git work tree: app.js committed, .env ignored, dist/ ignored, node_modules/ ignored. */
function gitProject(files: Record<string, string>): string {
  const dir = tempDir();
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, stdio: 'ignore' });
  git('init', '-q');
  git('add', '-A');
  git('-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qm', 'init');
  return dir;
}

/** A git work tree whose index is damaged: git refuses to list its files (as in a repository git cannot read). */
function damagedGitProject(files: Record<string, string>): string {
  const dir = gitProject(files);
  writeFileSync(join(dir, '.git', 'index'), 'not an index');
  return dir;
}

describe('finding a key in the workspace', () => {
  it('finds each token of the key by prefix and checksum, with its line, and nothing else', async () => {
    const t = await tenant();
    const a = await newToken(t.bob);
    const b = await newToken(t.bob, 'other');
    const text = `A=${a.token}\n\nB=${b.token}\nC="${a.token}" # again\nD=${damaged(a.token)}\n`;
    const spots = spotsOfKey(text, a.id);
    expect(spots.map((s) => s.line)).toEqual([1, 4]);
    for (const s of spots) expect(text.slice(s.start, s.end)).toBe(a.token);
    expect(spotsOfKey(text, b.id).map((s) => s.line)).toEqual([3]);
  });

  it('names .env files as such', () => {
    for (const p of ['.env', 'config/.env', '.env.local', '.env.production', 'prod.env']) expect(isEnvFile(p)).toBe(true);
    for (const p of ['env', '.envrc', 'environment.ts', 'a.env.js']) expect(isEnvFile(p)).toBe(false);
  });

  it('searches what git would commit plus ignored .env files, and skips ignored folders and other ignored files', async () => {
    const t = await tenant();
    const a = await newToken(t.bob);
    const dir = gitProject({
      '.gitignore': '.env\n.env.local\ndist/\nnode_modules/\n*.log\n',
      'src/app.js': `const key = '${a.token}';\n`,
      'README.md': 'nothing here\n',
    });
    // Written after the commit: untracked, and mostly ignored.
    writeFileSync(join(dir, '.env'), `X=1\nAPI_KEY=${a.token}\n`);
    writeFileSync(join(dir, '.env.local'), `API_KEY=${a.token}\n`);
    writeFileSync(join(dir, 'notes.txt'), `untracked, not ignored: ${a.token}\n`);
    writeFileSync(join(dir, 'debug.log'), `ignored: ${a.token}\n`);
    mkdirSync(join(dir, 'dist'));
    writeFileSync(join(dir, 'dist', 'bundle.js'), `'${a.token}'`);
    mkdirSync(join(dir, 'node_modules', 'pkg', 'config'), { recursive: true });
    writeFileSync(join(dir, 'node_modules', 'pkg', 'config', '.env'), `API_KEY=${a.token}\n`);

    expect((await filesToSearch(dir)).sort()).toEqual(['.env', '.env.local', '.gitignore', 'README.md', 'notes.txt', 'src/app.js']);
    const found = await findKeyInFolder(dir, a.id);
    // .env files first: they are where tokens are meant to be.
    expect(found.map((f) => `${f.path}:${f.spots.map((s) => s.line).join(',')}`)).toEqual(['.env:2', '.env.local:1', 'notes.txt:1', 'src/app.js:1']);
    expect(found[0].file).toBe(join(dir, '.env'));
  });

  it('outside git walks the folder, skipping .git, node_modules, links, binary and oversized files', async () => {
    const t = await tenant();
    const a = await newToken(t.bob);
    const dir = tempDir();
    writeFileSync(join(dir, '.env'), `API_KEY=${a.token}\n`);
    mkdirSync(join(dir, 'node_modules'));
    writeFileSync(join(dir, 'node_modules', 'x.js'), a.token);
    // A .git folder that is no work tree (git finds none here): never searched.
    mkdirSync(join(dir, '.git'));
    writeFileSync(join(dir, '.git', 'COMMIT_EDITMSG'), `${a.token}\n`);
    writeFileSync(join(dir, 'image.bin'), Buffer.concat([Buffer.from(a.token), Buffer.from([0, 1, 2])]));
    // One byte over the limit, text, the token on its first line.
    const big = Buffer.alloc(MAX_FILE_BYTES + 1, 'x');
    big.write(`${a.token}\n`);
    writeFileSync(join(dir, 'dump.txt'), big);
    writeFileSync(join(dir, 'small.txt'), big.subarray(0, MAX_FILE_BYTES));
    symlinkSync(join(dir, '.env'), join(dir, 'link.env'));
    expect(await filesToSearch(dir)).not.toContain('.git/COMMIT_EDITMSG');
    const found = await findKeyInFolder(dir, a.id);
    expect(found.map((f) => f.path)).toEqual(['.env', 'small.txt']);
  });

  it('outside git honours the folder\'s .gitignore files as keyward scan does, and still searches ignored .env files', async () => {
    const t = await tenant();
    const a = await newToken(t.bob);
    const dir = tempDir();
    writeFileSync(join(dir, '.gitignore'), '.env*\n*.log\nbuild/\n');
    mkdirSync(join(dir, 'src', 'generated'), { recursive: true });
    writeFileSync(join(dir, 'src', '.gitignore'), 'generated/\n');
    for (const f of ['.env', '.env.local', 'debug.log', 'src/app.js', 'src/generated/keys.js']) writeFileSync(join(dir, f), `${a.token}\n`);
    mkdirSync(join(dir, 'build'));
    writeFileSync(join(dir, 'build', '.env'), `${a.token}\n`); // inside an ignored folder, as git lists it: not searched
    const found = await findKeyInFolder(dir, a.id);
    expect(found.map((f) => f.path)).toEqual(['.env', '.env.local', 'src/app.js']);
  });

  it('judges a file the editor holds by its text there, not by the disk', async () => {
    const t = await tenant();
    const a = await newToken(t.bob);
    const dir = tempDir();
    writeFileSync(join(dir, 'saved.txt'), `${a.token}\n`);
    writeFileSync(join(dir, 'unsaved.txt'), 'nothing yet\n');
    const found = await findKeyInFolder(dir, a.id, (p) => (p.endsWith('unsaved.txt') ? `line\n${a.token}` : p.endsWith('saved.txt') ? 'edited away' : undefined));
    expect(found.map((f) => `${f.path}:${f.spots[0].line}`)).toEqual(['unsaved.txt:2']);
  });

  it('lists the places file:line, at most 15 and how many more', () => {
    const files: FileWithToken[] = [
      { file: '/w/.env', path: '.env', spots: [{ start: 0, end: 1, line: 2 }] },
      { file: '/w/src/app.js', path: 'src/app.js', spots: Array.from({ length: 20 }, (_, i) => ({ start: i, end: i + 1, line: i + 1 })) },
    ];
    const lines = whereText(files).split('\n');
    expect(lines.slice(0, 3)).toEqual(['.env:2', 'src/app.js:1', 'src/app.js:2']);
    expect(lines).toHaveLength(16);
    expect(lines.at(-1)).toBe('…and 6 more');
  });
});

describe('a workspace folder git cannot list', () => {
  it("is searched by its .gitignore files, and core's decision that it was is passed on in git's words", async () => {
    const t = await tenant();
    const a = await newToken(t.bob);
    const files = { '.gitignore': 'dist/\n', 'src/app.js': `const key = '${a.token}';\n`, 'dist/bundle.js': `'${a.token}'` };
    const fell: string[] = [];
    const found = await findKeyInFolder(damagedGitProject(files), a.id, undefined, (why) => fell.push(why));
    expect(found.map((f) => f.path)).toEqual(['src/app.js']);
    expect(fell).toEqual([expect.stringMatching(/^fatal: .*index/)]);
    // git answering, or no git work tree at all: nothing to tell.
    const healthy: string[] = [];
    await findKeyInFolder(gitProject(files), a.id, undefined, (why) => healthy.push(why));
    const plain = tempDir();
    writeFileSync(join(plain, 'app.js'), a.token);
    await findKeyInFolder(plain, a.id, undefined, (why) => healthy.push(why));
    expect(healthy).toEqual([]);
  });

  it('is named in the result of Rotate, after when the old token ends, with what was not counted', async () => {
    const t = await tenant();
    const old = await newToken(t.bob, 'CI deploy');
    const dir = damagedGitProject({ '.gitignore': '.env\n', 'app.js': `const key = '${old.token}';\n` });
    writeFileSync(join(dir, '.env'), `API_KEY=${old.token}\n`);
    const { deps, prompter } = await rotateDeps(t, 'bob', [{ pick: /^1 hour$/ }, { confirm: true }], folderWorkspace(dir));
    await rotateApiKey(deps, { id: old.id });
    expect(readFileSync(join(dir, '.env'), 'utf8')).not.toContain(old.token);
    expect(prompter.asked.find((a) => a.kind === 'confirm')!.detail).toMatch(/\n\ngit could not list the files of w \(fatal: .*index.*\); they were scanned by their \.gitignore files instead/);
    expect(prompter.told.at(-1)).toMatchObject({
      kind: 'info',
      message: expect.stringMatching(
        /replaced the old one in 2 places\. The old token works until .*, then is refused\. git could not list the files of w \(fatal: .*index.*\); they were scanned by their \.gitignore files instead, so \.git\/info\/exclude, the global excludes and ignored files git tracks were not counted as git counts them\.$/,
      ),
    });
  });

  it("is told by the editor's workspace under its folder's name", async () => {
    const t = await tenant();
    const a = await newToken(t.bob);
    const dir = damagedGitProject({ 'app.js': `const key = '${a.token}';\n` });
    mock.workspaceFolders = [{ uri: Uri.file(dir), name: 'shop', index: 0 }];
    try {
      const { files, gitFailed } = await workspaceTokens().find(a.id);
      expect(files.map((f) => f.path)).toEqual(['app.js']);
      expect(gitFailed).toEqual([{ folder: 'shop', why: expect.stringMatching(/^fatal: .*index/) }]);
    } finally {
      resetMock();
    }
  });
});

/**
 * The workspace as the flow sees it, on a real folder: found by the module
 * under test, replaced on disk as the editor layer does; the files named in
 * `unsaved` play ones with unsaved changes in an editor; the folder is named "w".
 */
function folderWorkspace(dir: string, unsaved: string[] = []): WorkspaceTokens & { replaced: number } {
  const w = {
    replaced: 0,
    find: async (keyId: string) => {
      const gitFailed: GitFailed[] = [];
      const files = await findKeyInFolder(dir, keyId, undefined, (why) => gitFailed.push({ folder: 'w', why }));
      return { files: files.map((f) => (unsaved.includes(f.path) ? { ...f, unsaved: true } : f)), gitFailed };
    },
    async replace(files: FileWithToken[], keyId: string, token: string) {
      let n = 0;
      const left: string[] = [];
      for (const f of files) {
        if (f.unsaved) {
          left.push(f.path);
          continue;
        }
        const changed = withTokenReplaced(readFileSync(f.file, 'utf8'), keyId, token);
        writeFileSync(f.file, changed.text);
        n += changed.replaced;
      }
      w.replaced += n;
      return { replaced: n, unsaved: left, failed: [] as string[] };
    },
  };
  return w;
}

/** Bob's key "CI deploy", its token in `.env` and `app.js` of a fresh folder. */
async function tokenInEnvAndApp() {
  const t = await tenant();
  const old = await newToken(t.bob, 'CI deploy');
  const dir = tempDir();
  writeFileSync(join(dir, '.env'), `API_KEY=${old.token}\n`);
  writeFileSync(join(dir, 'app.js'), `const key = '${old.token}';\n`);
  return { t, old, dir };
}

async function rotateDeps(t: Tenant, user: string, steps: Step[], workspace: WorkspaceTokens, destinations: TokenDestinations = {}, now = () => Date.now()) {
  const service = t.as(user);
  const prompter = new ScriptedPrompter(steps);
  const deps: RotateDeps = { service, me: await service.whoami(), prompter, now, workspace, destinations };
  return { deps, prompter };
}

describe('Rotate API Key', () => {
  it('rotates the key picked, replaces the old token in .env and the source, and the old token stops after the overlap', async () => {
    const clock = manualClock(Date.parse('2026-03-01T12:00:00Z'));
    const t = await tenant({ clock });
    const old = await newToken(t.bob, 'CI deploy');
    const other = await newToken(t.bob, 'other key');
    const dir = tempDir();
    writeFileSync(join(dir, '.env'), `API_KEY=${old.token}\nOTHER=${other.token}\n`);
    mkdirSync(join(dir, 'src'));
    writeFileSync(join(dir, 'src', 'app.js'), `// uses\nfetch(url, { headers: { authorization: 'Bearer ${old.token}' } });\n`);
    const workspace = folderWorkspace(dir);
    const { deps, prompter } = await rotateDeps(t, 'bob', [{ pickKey: 'deploy', choose: /CI deploy/ }, { pick: /^15 minutes$/ }, { confirm: true }], workspace, {}, () => clock.now());

    const created = await rotateApiKey(deps);
    expect(prompter.done).toBe(true);
    const confirm = prompter.asked.find((a) => a.kind === 'confirm')!;
    expect(confirm.title).toBe('Replace the old token in 2 places with the new one?');
    expect(confirm.detail).toMatch(/^\.env:1\nsrc\/app\.js:2\n/);

    const env = readFileSync(join(dir, '.env'), 'utf8');
    const newToken_ = env.match(TOKEN)![0];
    expect(env).toBe(`API_KEY=${newToken_}\nOTHER=${other.token}\n`);
    expect(readFileSync(join(dir, 'src', 'app.js'), 'utf8')).toContain(`'Bearer ${newToken_}'`);
    expect(newToken_).not.toBe(old.token);
    expect(parseToken(newToken_)).toMatchObject({ ok: true, keyId: created!.id });
    expect(created).toMatchObject({ description: 'CI deploy', sub: 'bob', rotatedFrom: old.id });
    expect(JSON.stringify(created)).not.toContain(newToken_);
    expect(prompter.copied).toBeUndefined();
    const told = prompter.told.map((m) => m.message).join('\n');
    expect(told).toMatch(/Rotated API key "CI deploy"\. The new token replaced the old one in 2 places\. The old token works until 2026-03-01 12:15 UTC \(in 15m\), then is refused\./);
    expect(told).not.toContain(newToken_);
    expect(told).not.toContain(old.token);

    // Both work during the overlap; only the new one after it.
    expect((await t.alice.verifyToken(old.token)).valid).toBe(true);
    expect((await t.alice.verifyToken(newToken_)).valid).toBe(true);
    clock.advance(15 * 60_000 + 1);
    expect(await t.alice.verifyToken(old.token)).toMatchObject({ valid: false });
    expect((await t.alice.verifyToken(newToken_)).valid).toBe(true);
    expect((await t.bob.getKey(old.id)).rotatedTo).toBe(created!.id);
  });

  it('leaves a file with unsaved changes in an editor as it is, says so before rotating, and copies the new token for it', async () => {
    const { t, old, dir } = await tokenInEnvAndApp();
    const { deps, prompter } = await rotateDeps(t, 'bob', [{ pick: /^1 hour$/ }, { confirm: true }], folderWorkspace(dir, ['app.js']));
    const created = await rotateApiKey(deps, { id: old.id });
    const confirm = prompter.asked.find((a) => a.kind === 'confirm')!;
    expect(confirm.title).toBe('Replace the old token in 1 place with the new one?');
    expect(confirm.detail).toMatch(/^\.env:1\n\nLeft as they are, with unsaved changes in an editor \(the new token is copied for them\): app\.js\./);
    const newToken_ = readFileSync(join(dir, '.env'), 'utf8').match(TOKEN)![0];
    expect(parseToken(newToken_)).toMatchObject({ ok: true, keyId: created!.id });
    expect(readFileSync(join(dir, 'app.js'), 'utf8')).toBe(`const key = '${old.token}';\n`);
    expect(prompter.copied).toBe(newToken_);
    expect(prompter.told.at(-1)).toMatchObject({ kind: 'warn', message: expect.stringMatching(/replaced the old one in 1 place, not where app\.js has unsaved changes: the old token there was left, and the new token copied to the clipboard; it will not be shown again\./) });
    expect(prompter.told.at(-1)!.message).not.toContain(newToken_);

    // The new key's token is only in .env; unsaved, so nothing to replace, so the person is told and picks where the token goes.
    const only = await rotateDeps(t, 'bob', [{ pick: /^1 hour$/ }, { pick: /Copy/ }], folderWorkspace(dir, ['.env']));
    const again = await rotateApiKey(only.deps, { id: created!.id });
    expect(only.prompter.asked.some((a) => a.kind === 'confirm')).toBe(false);
    expect(only.prompter.asked.at(-1)!.detail).toMatch(/only in files with unsaved changes, left as they are \(\.env\)/);
    expect(parseToken(only.prompter.copied!)).toMatchObject({ ok: true, keyId: again!.id });
  });

  it('copies the new token and names the file when the disk refuses to write one, keeping the places written', async () => {
    const { t, old, dir } = await tokenInEnvAndApp();
    const w = folderWorkspace(dir);
    // As the editor layer reports a write refused (a full disk) for app.js.
    const refusing: WorkspaceTokens = {
      find: w.find,
      replace: async (files, keyId, token) => ({ ...(await w.replace(files.filter((f) => f.path !== 'app.js'), keyId, token)), failed: ['app.js'] }),
    };
    const { deps, prompter } = await rotateDeps(t, 'bob', [{ pick: /^1 hour$/ }, { confirm: true }], refusing);
    const created = await rotateApiKey(deps, { id: old.id });
    const newToken_ = readFileSync(join(dir, '.env'), 'utf8').match(TOKEN)![0];
    expect(parseToken(newToken_)).toMatchObject({ ok: true, keyId: created!.id });
    expect(prompter.copied).toBe(newToken_);
    expect(prompter.told.at(-1)).toMatchObject({ kind: 'warn', message: expect.stringMatching(/replaced the old one in 1 place, not where app\.js could not be written: the old token there was left, and the new token copied to the clipboard/) });
  });

  it('reloads the keys shown when the answer to the rotate was lost (OUTCOME_UNKNOWN), and shows the code', async () => {
    const { t, old, dir } = await tokenInEnvAndApp();
    // The store commits the rotate, then its answer is lost (as a PostgreSQL connection cut once its COMMIT went out).
    const transact = t.store.transact.bind(t.store);
    t.store.transact = async (fn, how) => {
      await transact(fn, how);
      throw new KeywardError('OUTCOME_UNKNOWN', 'The store stopped answering after the change was sent to it, so whether it was made is not known.');
    };
    const { deps, prompter } = await rotateDeps(t, 'bob', [{ pick: /^1 hour$/ }, { confirm: true }], folderWorkspace(dir));
    const reloaded: number[] = [];
    deps.reload = async () => reloaded.push((await t.bob.listKeys()).total);
    expect(await rotateApiKey(deps, { id: old.id })).toBeUndefined();
    expect(prompter.told.at(-1)).toEqual({ kind: 'error', message: expect.stringMatching(/\(OUTCOME_UNKNOWN\)$/) });
    // Read again once: the old key and the one it was rotated to. The files still hold the old token.
    expect(reloaded).toEqual([2]);
    expect(readFileSync(join(dir, '.env'), 'utf8')).toBe(`API_KEY=${old.token}\n`);
  });

  it('ends the old token at once with "At once" (PT0S)', async () => {
    const t = await tenant();
    const old = await newToken(t.bob);
    const dir = tempDir();
    writeFileSync(join(dir, '.env'), `API_KEY=${old.token}\n`);
    const { deps, prompter } = await rotateDeps(t, 'bob', [{ pick: /^At once$/ }, { confirm: true }], folderWorkspace(dir));
    await rotateApiKey(deps, await t.bob.getKey(old.id));
    expect(await t.alice.verifyToken(old.token)).toMatchObject({ valid: false, reason: 'expired' });
    expect(await t.bob.getKey(old.id)).toMatchObject({ status: 'expired', rotatedTo: expect.any(String) });
    expect((await t.alice.verifyToken(readFileSync(join(dir, '.env'), 'utf8').match(TOKEN)![0])).valid).toBe(true);
    expect(prompter.told.at(-1)!.message).toMatch(/The old token is refused from now on\.$/);
  });

  it('takes a typed overlap, checked by core', async () => {
    const t = await tenant();
    const old = await newToken(t.bob);
    const { deps, prompter } = await rotateDeps(t, 'bob', [{ pick: /Other/ }, { input: '2h' }, { pick: /Copy/ }], folderWorkspace(tempDir()));
    const created = await rotateApiKey(deps, { id: old.id });
    const typed = prompter.asked.find((a) => a.kind === 'input')!.options!;
    expect(typed.validate!('soon')).toMatch(/The overlap must be a duration/);
    expect(typed.validate!('PT0S')).toBeUndefined();
    const oldKey = await t.bob.getKey(old.id);
    expect(Date.parse(oldKey.expiry) - Date.parse(created!.created)).toBe(2 * 3_600_000);
  });

  it('offers insert or copy when the old token is not in the workspace, and rotates only once the person chose', async () => {
    const t = await tenant();
    const old = await newToken(t.bob);
    const doc = { text: 'KEY=' };
    const destinations: TokenDestinations = {
      editor: { label: 'Insert at cursor', file: 'a.txt', put: async (token) => ((doc.text += token), true) },
      envFile: '/nowhere/.env',
    };
    const cancelled = await rotateDeps(t, 'bob', [{ pick: /^1 hour$/ }, { pick: undefined }], folderWorkspace(tempDir()), destinations);
    expect(await rotateApiKey(cancelled.deps, { id: old.id })).toBeUndefined();
    expect(cancelled.prompter.asked.at(-1)!.items).toEqual(['Insert at cursor', 'Copy to clipboard']);
    expect((await t.bob.getKey(old.id)).rotatedTo).toBeUndefined();

    const { deps, prompter } = await rotateDeps(t, 'bob', [{ pick: /^1 hour$/ }, { pick: /Insert/ }], folderWorkspace(tempDir()), destinations);
    const created = await rotateApiKey(deps, { id: old.id });
    const inserted = doc.text.slice(4);
    expect(parseToken(inserted)).toMatchObject({ ok: true, keyId: created!.id });
    expect(prompter.told.at(-1)!.message).toMatch(/Its token was inserted and will not be shown again\. The old token works until .* \(in 1h\)/);
  });

  it('puts the token elsewhere when the person would rather not replace, and copies it if the places vanished meanwhile', async () => {
    const t = await tenant();
    const a = await newToken(t.bob, 'a');
    const dir = tempDir();
    writeFileSync(join(dir, '.env'), `API_KEY=${a.token}\n`);
    const declined = await rotateDeps(t, 'bob', [{ pick: /^1 hour$/ }, { confirm: false }, { pick: /Copy/ }], folderWorkspace(dir));
    const b = await rotateApiKey(declined.deps, { id: a.id });
    expect(readFileSync(join(dir, '.env'), 'utf8')).toBe(`API_KEY=${a.token}\n`);
    expect(parseToken(declined.prompter.copied!)).toMatchObject({ ok: true, keyId: b!.id });

    // The file changed between the question and the edit: the new token is not lost.
    const bToken = declined.prompter.copied!;
    writeFileSync(join(dir, '.env'), `API_KEY=${bToken}\n`);
    const w = folderWorkspace(dir);
    const vanishing: WorkspaceTokens = {
      find: w.find,
      replace: async (files, keyId, token) => {
        writeFileSync(join(dir, '.env'), 'API_KEY=\n');
        return w.replace(files, keyId, token);
      },
    };
    const { deps, prompter } = await rotateDeps(t, 'bob', [{ pick: /^1 hour$/ }, { confirm: true }], vanishing);
    const c = await rotateApiKey(deps, { id: b!.id });
    expect(parseToken(prompter.copied!)).toMatchObject({ ok: true, keyId: c!.id });
    expect(prompter.told.at(-1)).toMatchObject({ kind: 'warn', message: expect.stringMatching(/no longer where it was found, so the new token was copied/) });
  });

  it('asks nothing when the key\'s view says its viewer may not rotate it, and shows core\'s refusal when the view was stale', async () => {
    const t = await tenant();
    const bobs = await newToken(t.bob);
    const dir = tempDir();
    writeFileSync(join(dir, '.env'), `API_KEY=${bobs.token}\n`);
    // An admin sees bob's key, but only its owner rotates it: core's view says so, and nothing is asked.
    const admin = await rotateDeps(t, 'alice', [], folderWorkspace(dir));
    expect(await rotateApiKey(admin.deps, { id: bobs.id })).toBeUndefined();
    expect(admin.prompter.asked).toEqual([]);
    expect(admin.prompter.told).toEqual([{ kind: 'error', message: 'API key "deploy" can be rotated only by its owner (bob): the new token lets its holder act as them.' }]);

    // A view read while the key was active, then the key revoked elsewhere: the engine refuses, and nothing changes.
    const stale = await t.bob.getKey(bobs.id);
    expect(stale.actions.rotate).toBe(true);
    await t.alice.revokeKey(bobs.id);
    const revoked = await rotateDeps(t, 'bob', [{ pick: /^1 hour$/ }, { confirm: true }], folderWorkspace(dir));
    expect(await rotateApiKey(revoked.deps, stale)).toBeUndefined();
    expect(revoked.prompter.told.at(-1)!.message).toMatch(/\(KEY_NOT_ACTIVE\)$/);
    expect(readFileSync(join(dir, '.env'), 'utf8')).toBe(`API_KEY=${bobs.token}\n`);
    expect(revoked.prompter.copied).toBeUndefined();
  });

  it('says the owner must be allowed to generate a key, and why not, when that is what stops the rotation', async () => {
    const t = await tenant();
    const bobs = await newToken(t.bob);
    await t.alice.updateUser('bob', { licence: false });
    const bob = await rotateDeps(t, 'bob', [], folderWorkspace(tempDir()));
    expect(await rotateApiKey(bob.deps, { id: bobs.id })).toBeUndefined();
    expect(bob.prompter.asked).toEqual([]);
    const [told] = bob.prompter.told;
    expect(told.kind).toBe('error');
    expect(told.message).toMatch(/^Rotating API key "deploy" generates a new key, so its owner must be allowed to generate a key: .+ \(LICENCE_REQUIRED\)$/);

    await t.alice.updateUser('bob', { licence: true });
    await t.alice.updateSettings({ api_keys_enabled: false });
    const off = await rotateDeps(t, 'bob', [], folderWorkspace(tempDir()));
    expect(await rotateApiKey(off.deps, { id: bobs.id })).toBeUndefined();
    expect(off.prompter.told[0].message).toMatch(/must be allowed to generate a key: .+ \(API_KEYS_DISABLED\)$/);
  });

  it('rotates through a Keyward server (the remote adapter) just as on a local store', async () => {
    const t = await fileTenant();
    const signIn = await t.bob.generateKey({ description: 'editor sign-in' });
    const old = await newToken(t.bob, 'served key');
    const server = await startServer({ storePath: t.path, port: 0, log: () => undefined, usageFlushMs: 0 });
    try {
      const service = createRemoteService(server.url.replace(/\/+$/, ''), signIn.token);
      const dir = tempDir();
      writeFileSync(join(dir, '.env'), `API_KEY=${old.token}\n`);
      const prompter = new ScriptedPrompter([{ pick: /^At once$/ }, { confirm: true }]);
      const deps: RotateDeps = { service, me: await service.whoami(), prompter, now: () => Date.now(), workspace: folderWorkspace(dir), destinations: {} };
      const created = await rotateApiKey(deps, { id: old.id });
      const placed = readFileSync(join(dir, '.env'), 'utf8').match(TOKEN)![0];
      expect(parseToken(placed)).toMatchObject({ ok: true, keyId: created!.id });
      const local = freshService(t.path, 'bob');
      expect((await local.verifyToken(placed)).valid).toBe(true);
      expect(await local.verifyToken(old.token)).toMatchObject({ valid: false });
      expect(await local.getKey(old.id)).toMatchObject({ rotatedTo: created!.id });
      await service.close();
    } finally {
      await server.close();
    }
  });

  it('offers only the person\'s own active keys in the palette', async () => {
    const t = await tenant();
    await newToken(t.bob, 'mine active');
    const gone = await newToken(t.bob, 'mine revoked');
    await t.alice.revokeKey(gone.id);
    await newToken(t.alice, 'alice key');
    const { deps, prompter } = await rotateDeps(t, 'bob', [{ pickKey: '', choose: undefined }], folderWorkspace(tempDir()));
    expect(await rotateApiKey(deps)).toBeUndefined();
    expect(prompter.asked[0].items).toEqual(['mine active']);
  });
});

describe("a workspace folder's .env that is a symbolic link", () => {
  it('is neither searched nor written by Rotate, as Generate does not write it, and the result names the link and where it leads', async () => {
    const t = await tenant();
    const old = await newToken(t.bob, 'CI deploy');
    const dir = tempDir();
    const shared = join(tempDir(), 'shared-secrets.env');
    writeFileSync(shared, `API_KEY=${old.token}\n`);
    symlinkSync(shared, join(dir, '.env'));
    writeFileSync(join(dir, 'app.js'), `const key = '${old.token}';\n`);
    mock.workspaceFolders = [{ uri: Uri.file(dir), name: 'w', index: 0 }];
    try {
      const editor = workspaceTokens();
      const found = await editor.find(old.id);
      expect(found.files.map((f) => f.path)).toEqual(['app.js']);
      const why = `.env is a symbolic link to ${shared}, and Keyward never writes a token through a link (it may lead out of the workspace, to a file others read)`;
      expect(found.notSearched).toEqual([why]);

      const { deps, prompter } = await rotateDeps(t, 'bob', [{ pick: /^1 hour$/ }, { confirm: true }], { find: editor.find, replace: folderWorkspace(dir).replace });
      await rotateApiKey(deps, { id: old.id });
      expect(readFileSync(shared, 'utf8')).toBe(`API_KEY=${old.token}\n`);
      expect(readFileSync(join(dir, 'app.js'), 'utf8')).not.toContain(old.token);
      // The new token is copied too: the file the link leads to may hold the old one, and the token is never shown again.
      expect(parseToken(prompter.copied!)).toMatchObject({ ok: true });
      expect(readFileSync(join(dir, 'app.js'), 'utf8')).toContain(prompter.copied!);
      expect(prompter.told.at(-1)).toMatchObject({
        kind: 'warn',
        message: expect.stringMatching(/replaced the old one in 1 place, and was copied to the clipboard for what the link below leads to; it will not be shown again\. The old token works until .*, then is refused\. Not searched: (.*)\.$/),
      });
      expect(prompter.told.at(-1)!.message.endsWith(`Not searched: ${why}.`)).toBe(true);
      expect(prompter.told.at(-1)!.message).not.toContain(prompter.copied!);
      // Said before anything was rotated too, where the places are listed.
      expect(prompter.asked.find((a) => a.kind === 'confirm')!.detail!.endsWith(`\n\nNot searched: ${why}.`)).toBe(true);
    } finally {
      resetMock();
    }
  });
});

describe("Rotate's view of the editor's workspace", () => {
  afterEach(() => {
    vi.restoreAllMocks();
    resetMock();
  });

  it('judges an open file by its text in the editor, marks one with unsaved changes, and looks at the open documents once', async () => {
    const t = await tenant();
    const a = await newToken(t.bob);
    const dir = tempDir();
    const open = (name: string, disk: string, editor: string) => {
      writeFileSync(join(dir, name), disk);
      const doc = new MockDocument(Uri.file(join(dir, name)), disk);
      if (editor !== disk) doc.setText(editor);
      mock.documents.push(doc);
    };
    writeFileSync(join(dir, 'closed.txt'), `${a.token}\n`);
    open('saved.txt', `x ${a.token}\n`, `x ${a.token}\n`);
    open('typed.txt', 'nothing yet\n', `line\n${a.token}\n`);
    open('edited-away.txt', `${a.token}\n`, 'gone\n');
    mock.workspaceFolders = [{ uri: Uri.file(dir), name: 'w', index: 0 }];
    const looks = vi.spyOn(workspace, 'textDocuments', 'get');
    const { files: found, gitFailed } = await workspaceTokens().find(a.id);
    expect(gitFailed).toEqual([]);
    expect(found.map((f) => `${f.path}:${f.spots[0].line}${f.unsaved ? ' unsaved' : ''}`).sort()).toEqual(['closed.txt:1', 'saved.txt:1', 'typed.txt:2 unsaved']);
    expect(looks).toHaveBeenCalledTimes(1);
  });
});
