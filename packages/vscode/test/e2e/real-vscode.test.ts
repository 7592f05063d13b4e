// End to end in a real VS Code (code-server.ts: code-server with the extension
// packaged and installed, driven from headless Chromium), on a real JSON store
// in a temporary directory. The token is checked by a Keyward engine of its
// own, as another process would. real-vscode.pg.test.ts does the same on a
// PostgreSQL store.

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, createJsonFileStore, initStore, parseToken } from '@keyward/core';
import { TOKEN, type VsCode, editorText, filesHolding, generateAndInsert, keysViewRows, openAtEndOfFirstLine, revokeFromPalette, runFromPalette, startVsCode, waitForQuestion } from './code-server.js';

const DESCRIPTION = 'e2e deploy key';
const ROTATED = 'e2e rotated key';

let work: string;
let storePath: string;
let folder: string;
let vscode: VsCode | undefined;
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

describe('the extension in a real VS Code', { timeout: 180_000 }, () => {
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'keyward-vscode-e2e-'));
    storePath = join(work, 'store', 'keyward.json');
    folder = join(work, 'project');
    await seedStore();
    seedFolder();
    vscode = await startVsCode({ work, folder, settings: { 'keyward.store': storePath, 'keyward.user': 'alice' } });
    page = vscode.page;
  }, 15 * 60_000);

  afterAll(async () => {
    await vscode?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('generates a key from the command palette and inserts a working token at the cursor', async () => {
    await openAtEndOfFirstLine(page, 'a.txt', 'API_KEY=');
    await generateAndInsert(page, DESCRIPTION);

    await expect.poll(() => editorText(page), { timeout: 60_000 }).toMatch(TOKEN);
    const text = await editorText(page);
    token = TOKEN.exec(text)![0];
    expect(text.split('\n')[0]).toBe(`API_KEY=${token}`);

    // Written into a.txt, which the editor reloaded: no unsaved editor holds it, so no backup either.
    expect(await page.locator('.tabs-container .tab.dirty').count()).toBe(0);
    expect(readFileSync(join(folder, 'a.txt'), 'utf8')).toBe(`API_KEY=${token}\n`);
    expect(filesHolding(work, token)).toEqual([join(folder, 'a.txt')]);

    const verified = await verifyOnce(token);
    expect(verified).toMatchObject({ valid: true, key: { description: DESCRIPTION, sub: 'alice', status: 'active' } });
    // A live token in a file git tracks is a secret in source: an information diagnostic.
    await expect.poll(() => page.locator('.monaco-editor .squiggly-info').count(), { timeout: 60_000 }).toBeGreaterThan(0);
  });

  it('lists the new key in the Keys view', async () => {
    await page.locator('.activitybar a[aria-label="Keyward"]').click();
    await expect.poll(() => keysViewRows(page), { timeout: 60_000 }).toContainEqual(expect.stringMatching(new RegExp(`^${DESCRIPTION}expires in 30d · (never used|used .*)$`)));
    const rows = await keysViewRows(page);
    expect(rows[0]).toMatch(/^My keys/);
    expect(rows.some((r) => r.startsWith('All keys'))).toBe(true);
  });

  it('revokes the key from the command palette after confirmation', async () => {
    const parsed = parseToken(token);
    expect(parsed.ok).toBe(true);
    await revokeFromPalette(page, 'deploy', DESCRIPTION);

    await expect.poll(async () => (await fresh().getKey((parsed as { keyId: string }).keyId)).status, { timeout: 60_000 }).toBe('revoked');
    expect(await verifyOnce(token)).toMatchObject({ valid: false, reason: 'revoked' });
    await expect.poll(() => keysViewRows(page), { timeout: 60_000 }).toContainEqual(expect.stringMatching(new RegExp(`^${DESCRIPTION}revoked`)));
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
    await runFromPalette(page, 'Keyward: Rotate API Key');
    await waitForQuestion(page, 'Rotate API Key');
    await page.keyboard.type('rotated');
    await page.locator('.quick-input-widget .monaco-list-row', { hasText: ROTATED }).first().waitFor();
    await page.keyboard.press('Enter');
    await waitForQuestion(page, `Rotate API Key "${ROTATED}"`);
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
    expect(filesHolding(work, fresh1)).toEqual([join(folder, '.env'), join(folder, 'app.js')]);
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
    await expect.poll(() => editorText(page), { timeout: 30_000 }).toContain(`Bearer ${fresh1}`);
    // No editor of theirs ever showed unsaved changes: VS Code backs an unsaved editor up to
    // User/Backups a second after it changes, and under load before it is saved. Seen on the
    // tabs as they change, so a moment unsaved is caught, however short.
    expect(await unsavedTabsSeen()).not.toContainEqual(expect.stringMatching(/\.env|app\.js/));
    expect(await page.locator('.tabs-container .tab.dirty').count()).toBe(0);
    // And, well after (the overlap ended meanwhile), still nowhere else on disk.
    expect(filesHolding(work, fresh1)).toEqual([join(folder, '.env'), join(folder, 'app.js')]);
  });
  it('offers Rotate on the Keys view\'s context menu for an active key of one\'s own only, and asks about that key', async () => {
    // (The activity bar icon would close the view if it were open already.)
    await runFromPalette(page, 'Keyward: Show Keys');
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
