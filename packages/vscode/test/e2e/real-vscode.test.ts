// End to end in a real VS Code: code-server 4.96 (VS Code 1.96) installed by
// ../shared/tools/code-server/install.sh, the extension packaged as a .vsix and
// installed into it, driven from headless Chromium with playwright-core, on a
// real JSON store in a temporary directory. The token is checked by a Keyward
// engine of its own, as another process would.
//
// KEYWARD_CODE_SERVER_ENTRY=path/to/entry.js skips running install.sh.

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, createJsonFileStore, initStore, parseToken } from '@keyward/core';

const packageDir = fileURLToPath(new URL('../..', import.meta.url));
const repoRoot = resolve(packageDir, '../..');
const installScript = resolve(repoRoot, '../shared/tools/code-server/install.sh');
const TOKEN = /kw_[0-9a-f]{24}_[a-z2-7]{32}[0-9a-f]{8}/;
const DESCRIPTION = 'e2e deploy key';
const ROTATED = 'e2e rotated key';

let work: string;
let storePath: string;
let folder: string;
let server: ChildProcess | undefined;
let serverLog = '';
let browser: Browser | undefined;
let page: Page;
let token: string;
/** The token of the key Rotate replaces: in the workspace's .env (git-ignored) and app.js. */
let rotating: { token: string; id: string };

/** A service on the store as a separate process would open it (no cached copy). */
const fresh = (user = 'alice') => createEngine(createJsonFileStore(storePath)).as(user);

/**
 * Verifies as another process would, and closes: its uses are written once,
 * not every few seconds by an engine left open (each write makes the
 * extension redraw the Keys view, which closes a context menu).
 */
async function verifyOnce(t: string) {
  const s = fresh();
  try {
    return await s.verifyToken(t);
  } finally {
    await s.close();
  }
}

function lastLine(text: string): string {
  return text.trim().split('\n').at(-1)!.trim();
}

function codeServerEntry(): string {
  if (process.env.KEYWARD_CODE_SERVER_ENTRY) return process.env.KEYWARD_CODE_SERVER_ENTRY;
  if (!existsSync(installScript)) throw new Error(`code-server installer not found at ${installScript} (shared/ must sit beside the checkout)`);
  // Idempotent: reuses ~/.cache/code-server-4.96.4 after the first run (about three minutes).
  return lastLine(execFileSync('bash', [installScript], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }));
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => res(port));
    });
  });
}

async function waitForHttp(url: string, ms: number): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    if (server?.exitCode !== null) throw new Error(`code-server exited early:\n${serverLog}`);
    if (Date.now() > until) throw new Error(`code-server did not answer at ${url}:\n${serverLog}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function seedStore(): Promise<void> {
  const store = createJsonFileStore(storePath);
  await initStore(store, { admin: 'alice' });
  const alice = createEngine(store).as('alice');
  await alice.updateSettings({ api_keys_enabled: true });
  await alice.updateUser('alice', { developer: true });
  const { token: t, id } = await alice.generateKey({ description: ROTATED });
  rotating = { token: t, id };
  await alice.close();
}

/** A workspace folder that is a git repository with a.txt committed: a token there is a secret in source. */
function seedFolder(): void {
  mkdirSync(folder);
  writeFileSync(join(folder, 'a.txt'), 'API_KEY=\n');
  // The key to rotate: its token in a git-ignored .env and in a source file.
  writeFileSync(join(folder, '.gitignore'), '.env\n');
  writeFileSync(join(folder, '.env'), `OTHER=1\nKEYWARD_TOKEN=${rotating.token}\n`);
  writeFileSync(join(folder, 'app.js'), `// calls the API\nconst headers = { authorization: 'Bearer ${rotating.token}' };\n`);
  const git = (...args: string[]) => execFileSync('git', args, { cwd: folder, stdio: 'ignore' });
  git('init', '-q');
  git('add', 'a.txt', '.gitignore', 'app.js');
  git('-c', 'user.name=e2e', '-c', 'user.email=e2e@example.com', 'commit', '-qm', 'a.txt');
}

async function runFromPalette(command: string): Promise<void> {
  await page.keyboard.press('F1');
  const widget = page.locator('.quick-input-widget');
  await widget.waitFor({ state: 'visible' });
  await page.keyboard.type(command);
  await widget.locator('.monaco-list-row', { hasText: command }).first().waitFor();
  await page.keyboard.press('Enter');
}

async function waitForQuestion(title: string | RegExp): Promise<void> {
  await page.locator('.quick-input-widget .quick-input-title', { hasText: title }).waitFor({ state: 'visible' });
}

async function editorText(): Promise<string> {
  return (await page.locator('.monaco-editor .view-lines').first().innerText()).replace(/\u00a0/g, ' ');
}

/**
 * The files under the test's directory holding `text`, except VS Code's own Local History
 * (User/History), which keeps a copy of every file saved, whoever saves it (the README says
 * how to exclude .env).
 */
function filesHolding(text: string): string[] {
  const holders = execFileSync('grep', ['-rlF', text, work], { encoding: 'utf8' }).trim().split('\n');
  return holders.filter((f) => !f.startsWith(join(work, 'user-data', 'User', 'History') + '/')).sort();
}

/**
 * From now on, records the name of every editor tab that shows unsaved changes, however
 * briefly (run in the page: text, as this package is type-checked without the DOM's types).
 */
async function watchUnsavedTabs(): Promise<void> {
  await page.evaluate(`(() => {
    const seen = (window.keywardUnsavedTabs = []);
    const note = () => document.querySelectorAll('.tabs-container .tab.dirty').forEach((t) => seen.push(t.innerText.trim()));
    note();
    new MutationObserver(note).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['class'] });
  })()`);
}

async function unsavedTabsSeen(): Promise<string[]> {
  return page.evaluate<string[]>('window.keywardUnsavedTabs');
}

async function keysViewRows(): Promise<string[]> {
  return page.locator('.pane-body .monaco-list-row').allInnerTexts();
}

describe('the extension in a real VS Code', { timeout: 180_000 }, () => {
  beforeAll(async () => {
    const entry = codeServerEntry();
    work = mkdtempSync(join(tmpdir(), 'keyward-vscode-e2e-'));
    storePath = join(work, 'store', 'keyward.json');
    folder = join(work, 'project');
    const userData = join(work, 'user-data');
    const extensions = join(work, 'extensions');
    await seedStore();
    seedFolder();

    const vsix = lastLine(execFileSync(process.execPath, [join(packageDir, 'vsix.mjs'), '--out', join(work, 'keyward.vsix')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }));
    execFileSync(process.execPath, [entry, '--user-data-dir', userData, '--extensions-dir', extensions, '--install-extension', vsix], { stdio: 'ignore' });

    mkdirSync(join(userData, 'User'), { recursive: true });
    writeFileSync(
      join(userData, 'User', 'settings.json'),
      JSON.stringify({
        'workbench.startupEditor': 'none',
        'security.workspace.trust.enabled': false,
        'workbench.tips.enabled': false,
        'extensions.ignoreRecommendations': true,
        'telemetry.telemetryLevel': 'off',
        'keyward.store': storePath,
        'keyward.user': 'alice',
        // As in desktop VS Code (the web's default saves a second after each change, which would
        // hide an editor left unsaved): an unsaved editor stays unsaved, and is backed up to disk.
        'files.autoSave': 'off',
      }),
    );
    const port = await freePort();
    // Own process group, so the whole server (and its extension host) stops with it.
    server = spawn(
      process.execPath,
      [entry, '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--config', join(work, 'code-server.yaml'), '--user-data-dir', userData, '--extensions-dir', extensions, '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', folder],
      { detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    server.stdout!.on('data', (d) => (serverLog += d));
    server.stderr!.on('data', (d) => (serverLog += d));
    await waitForHttp(`http://127.0.0.1:${port}/healthz`, 60_000);

    browser = await chromium.launch({
      executablePath: process.env.KEYWARD_CHROMIUM ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.setDefaultTimeout(30_000);
    await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(folder)}`);
    await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
    // The Keyward activity bar entry appears once the extension is registered.
    await page.locator('.activitybar a[aria-label="Keyward"]').waitFor({ timeout: 60_000 });
  }, 15 * 60_000);

  afterAll(async () => {
    await browser?.close();
    if (server?.pid && server.exitCode === null) {
      try {
        process.kill(-server.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('generates a key from the command palette and inserts a working token at the cursor', async () => {
    await page.keyboard.press('Control+P');
    await page.locator('.quick-input-widget').waitFor({ state: 'visible' });
    await page.keyboard.type('a.txt');
    await page.locator('.quick-input-widget .monaco-list-row', { hasText: 'a.txt' }).first().waitFor();
    await page.keyboard.press('Enter');
    await page.locator('.monaco-editor .view-lines', { hasText: 'API_KEY=' }).first().waitFor();
    await page.locator('.monaco-editor .view-lines').first().click();
    // End of the first line, right after "API_KEY=".
    await page.keyboard.press('Control+Home');
    await page.keyboard.press('End');

    await runFromPalette('Keyward: Generate API Key');
    await waitForQuestion('Generate API Key (1/2)');
    await page.keyboard.type(DESCRIPTION);
    await page.keyboard.press('Enter');
    await waitForQuestion('Generate API Key (2/2)');
    // The first choice is the tenant maximum (30 days by default).
    await page.locator('.quick-input-widget .monaco-list-row').first().filter({ hasText: '30 days' }).waitFor();
    await page.keyboard.press('Enter');
    await waitForQuestion('where should the token go');
    await page.locator('.quick-input-widget .monaco-list-row').first().filter({ hasText: 'Insert at cursor' }).waitFor();
    await page.keyboard.press('Enter');

    await expect.poll(editorText, { timeout: 60_000 }).toMatch(TOKEN);
    const text = await editorText();
    token = TOKEN.exec(text)![0];
    expect(text.split('\n')[0]).toBe(`API_KEY=${token}`);

    // Written into a.txt, which the editor reloaded: no unsaved editor holds it, so no backup either.
    expect(await page.locator('.tabs-container .tab.dirty').count()).toBe(0);
    expect(readFileSync(join(folder, 'a.txt'), 'utf8')).toBe(`API_KEY=${token}\n`);
    expect(filesHolding(token)).toEqual([join(folder, 'a.txt')]);

    const verified = await verifyOnce(token);
    expect(verified).toMatchObject({ valid: true, key: { description: DESCRIPTION, sub: 'alice', status: 'active' } });
    // A live token in a file git tracks is a secret in source: an information diagnostic.
    await expect.poll(() => page.locator('.monaco-editor .squiggly-info').count(), { timeout: 60_000 }).toBeGreaterThan(0);
  });

  it('lists the new key in the Keys view', async () => {
    await page.locator('.activitybar a[aria-label="Keyward"]').click();
    await expect.poll(keysViewRows, { timeout: 60_000 }).toContainEqual(expect.stringMatching(new RegExp(`^${DESCRIPTION}expires in 30d · (never used|used .*)$`)));
    const rows = await keysViewRows();
    expect(rows[0]).toMatch(/^My keys/);
    expect(rows.some((r) => r.startsWith('All keys'))).toBe(true);
  });

  it('revokes the key from the command palette after confirmation', async () => {
    const parsed = parseToken(token);
    expect(parsed.ok).toBe(true);
    await runFromPalette('Keyward: Revoke API Key');
    await waitForQuestion('Revoke API Key');
    await page.keyboard.type('deploy');
    await page.locator('.quick-input-widget .monaco-list-row', { hasText: DESCRIPTION }).first().waitFor();
    await page.keyboard.press('Enter');
    const dialog = page.locator('.monaco-dialog-box');
    await dialog.waitFor({ state: 'visible' });
    expect(await dialog.innerText()).toContain(`Revoke API key "${DESCRIPTION}"?`);
    await dialog.getByRole('button', { name: 'Revoke' }).click();

    await expect.poll(async () => (await fresh().getKey((parsed as { keyId: string }).keyId)).status, { timeout: 60_000 }).toBe('revoked');
    expect(await verifyOnce(token)).toMatchObject({ valid: false, reason: 'revoked' });
    await expect.poll(keysViewRows, { timeout: 60_000 }).toContainEqual(expect.stringMatching(new RegExp(`^${DESCRIPTION}revoked`)));
  });

  it('marks the now-dead token in the file with a warning', async () => {
    await expect.poll(() => page.locator('.monaco-editor .squiggly-warning').count(), { timeout: 60_000 }).toBeGreaterThan(0);
    await page.keyboard.press('Control+Shift+M');
    const problem = page.locator('.markers-panel .monaco-list-row', { hasText: 'was revoked' });
    await problem.first().waitFor();
    expect(await problem.first().innerText()).toContain(`Keyward key "${DESCRIPTION}" was revoked: this token no longer authenticates.`);
    expect(await page.locator('.monaco-editor .squiggly-info').count()).toBe(0);
  });

  it('shows the key behind the token on hover', async () => {
    // A click on the line puts the cursor at its end, which is the token's end.
    await page.locator('.monaco-editor .view-line', { hasText: 'API_KEY=' }).first().click();
    await page.keyboard.press('Control+K');
    await page.keyboard.press('Control+I');
    // The problem's own hover shows first; the provider's part follows once the key is looked up.
    const hover = page.locator('.monaco-hover', { hasText: 'Owner:' });
    await hover.first().waitFor({ state: 'visible' });
    const text = await hover.first().innerText();
    expect(text).toContain(`Keyward key ${DESCRIPTION} — revoked`);
    expect(text).toContain('Owner: alice');
    expect(text).not.toContain(token);
  });

  it('rotates a key from the palette and writes the new token over the old one in .env and app.js, never into an unsaved editor', async () => {
    const read = (name: string) => readFileSync(join(folder, name), 'utf8');
    await page.keyboard.press('Escape'); // the hover of the test before
    await runFromPalette('Keyward: Rotate API Key');
    await waitForQuestion('Rotate API Key');
    await page.keyboard.type('rotated');
    await page.locator('.quick-input-widget .monaco-list-row', { hasText: ROTATED }).first().waitFor();
    await page.keyboard.press('Enter');
    await waitForQuestion(`Rotate API Key "${ROTATED}"`);
    // The default (1 hour) comes first; a typed overlap of 20 s lets the test see it end.
    await page.locator('.quick-input-widget .monaco-list-row').first().filter({ hasText: '1 hour' }).waitFor();
    await page.keyboard.type('Other');
    await page.locator('.quick-input-widget .monaco-list-row').first().filter({ hasText: 'Other…' }).waitFor();
    await page.keyboard.press('Enter');
    await page.locator('.quick-input-widget .quick-input-message', { hasText: 'How long the old token keeps working' }).waitFor();
    await page.keyboard.type('PT20S');
    await page.keyboard.press('Enter');

    const dialog = page.locator('.monaco-dialog-box');
    await dialog.waitFor({ state: 'visible' });
    const asked = await dialog.innerText();
    expect(asked).toContain('Replace the old token in 2 places with the new one?');
    // Where, one place per line (.env files first).
    expect(asked).toMatch(/^\.env:2\napp\.js:2$/m);
    expect(asked).not.toContain(rotating.token);
    // Nothing is rotated before the answer.
    expect((await fresh().getKey(rotating.id)).rotatedTo).toBeUndefined();
    await watchUnsavedTabs();
    await dialog.getByRole('button', { name: 'Replace All' }).click();

    // Both files on disk hold the same new token, in place of the old one.
    // (A file being saved may read empty for an instant: wait until each holds a whole new token.)
    const newTokenIn = (name: string) => TOKEN.exec(read(name))?.filter((t) => t !== rotating.token)[0];
    await expect.poll(() => Boolean(newTokenIn('.env') && newTokenIn('app.js')), { timeout: 60_000 }).toBe(true);
    const fresh1 = TOKEN.exec(read('.env'))![0];
    expect(read('.env')).toBe(`OTHER=1\nKEYWARD_TOKEN=${fresh1}\n`);
    expect(read('app.js')).toBe(`// calls the API\nconst headers = { authorization: 'Bearer ${fresh1}' };\n`);

    // Nowhere else on disk: not in the editor's logs, settings or storage. VS Code's own Local History
    // (User/History) keeps a copy of every file saved, whoever saves it; the README says how to exclude .env.
    expect(filesHolding(fresh1)).toEqual([join(folder, '.env'), join(folder, 'app.js')]);
    // The old key is rotated to the new one; both tokens work during the overlap, only the new one after it.
    const newKey = await verifyOnce(fresh1);
    expect(newKey).toMatchObject({ valid: true, key: { description: ROTATED, sub: 'alice', rotatedFrom: rotating.id } });
    const old = await fresh().getKey(rotating.id);
    expect(old).toMatchObject({ status: 'active', rotatedTo: (newKey as { key: { id: string } }).key.id });
    expect(Date.parse(old.expiry) - Date.parse(old.lastUpdated)).toBe(20_000);
    expect(await verifyOnce(rotating.token)).toMatchObject({ valid: true });
    await expect.poll(() => verifyOnce(rotating.token), { timeout: 60_000, interval: 1000 }).toMatchObject({ valid: false, reason: 'expired' });
    expect((await fresh().getKey(rotating.id)).status).toBe('expired');
    expect(await verifyOnce(fresh1)).toMatchObject({ valid: true });

    // The changed files are shown, in editors of their own, read from the disk.
    await page.locator('.tabs-container .tab', { hasText: '.env' }).waitFor();
    await page.locator('.tabs-container .tab', { hasText: 'app.js' }).click();
    await expect.poll(editorText, { timeout: 30_000 }).toContain(`Bearer ${fresh1}`);
    // No editor of theirs ever showed unsaved changes: VS Code backs an unsaved editor up to
    // User/Backups a second after it changes, and under load before it is saved. Seen on the
    // tabs as they change, so a moment unsaved is caught, however short.
    expect(await unsavedTabsSeen()).not.toContainEqual(expect.stringMatching(/\.env|app\.js/));
    expect(await page.locator('.tabs-container .tab.dirty').count()).toBe(0);
    // And, well after (the overlap ended meanwhile), still nowhere else on disk.
    expect(filesHolding(fresh1)).toEqual([join(folder, '.env'), join(folder, 'app.js')]);
  });
  it('offers Rotate on the Keys view\'s context menu for an active key of one\'s own only, and asks about that key', async () => {
    // (The activity bar icon would close the view if it were open already.)
    await runFromPalette('Keyward: Show Keys');
    // Drawn afresh: the key the last test rotated has expired since the view last asked.
    await page.locator('.part.sidebar .action-label[aria-label^="Refresh"]').first().click();
    // The side bar's rows: the Problems panel lists rows naming the key too.
    const rows = page.locator('.part.sidebar .monaco-list-row', { hasText: ROTATED });
    const active = rows.filter({ hasText: 'expires in' }).first();
    const expired = rows.filter({ hasText: 'expired' }).first();
    await active.waitFor();
    await expired.waitFor();
    const menu = page.locator('.context-view .monaco-menu');
    /**
     * Opens a row's context menu and hands it to `use`. A redraw of the view
     * (the store changed: another process wrote its usage) closes an open
     * menu, so a menu that went away meanwhile is opened again.
     */
    const withMenu = async <T>(row: typeof active, use: () => Promise<T>): Promise<T> => {
      for (let i = 1; ; i++) {
        try {
          await row.click({ button: 'right' });
          await menu.waitFor({ state: 'visible', timeout: 5000 });
          return await use();
        } catch (e) {
          if (i === 3) throw e;
          await page.keyboard.press('Escape');
        }
      }
    };

    const expiredMenu = await withMenu(expired, () => menu.innerText({ timeout: 2000 }));
    expect(expiredMenu).toContain('Copy Key ID');
    expect(expiredMenu).not.toContain('Rotate API Key');
    await page.keyboard.press('Escape');
    await menu.waitFor({ state: 'hidden' });

    await withMenu(active, async () => {
      // A menu ignores a click that comes too soon after it opened (the right-click's own release).
      const item = menu.locator('.action-item', { hasText: 'Rotate API Key' });
      await item.hover({ timeout: 2000 });
      await page.waitForTimeout(500);
      await item.click({ timeout: 2000 });
      // Straight to the overlap for that key: no key to pick.
      await page.locator('.quick-input-widget .quick-input-title', { hasText: `Rotate API Key "${ROTATED}"` }).waitFor({ timeout: 10_000 });
    });
    await page.keyboard.press('Escape');
    const current = (await fresh().listKeys({ search: ROTATED, status: 'active' })).data;
    expect(current).toHaveLength(1);
    expect(current[0].rotatedTo).toBeUndefined();
  });
});
