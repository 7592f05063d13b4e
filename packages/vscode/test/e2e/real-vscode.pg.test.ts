// The extension in a real VS Code on a PostgreSQL store (issue 10: every face
// works on one unchanged), with the harness of real-vscode.test.ts: the
// `keyward.store` setting is the database's URL. Before `keyward init` the
// Keys view says there is no store there; once it is set up, a key is
// generated from the editor, inserted, and revoked, and a `keyward keys
// verify` process on the same database is refused its token. The URL signs in
// as a role of its own with a password made for the test, which must show
// nowhere: not in the workbench, not in code-server's output or logs.

import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeOf, keyward } from '../../../../test/support/keyward.js';
import { createOwnedTestDatabase, type TestDatabase } from '../../../../test/support/postgres.js';
import { TOKEN, type VsCode, editorText, filesHolding, generateAndInsert, keysViewRows, openAtEndOfFirstLine, revokeFromPalette, startVsCode } from './code-server.js';

const DESCRIPTION = 'pg deploy key';

let db: TestDatabase & { password: string };
let work: string;
let folder: string;
let vscode: VsCode | undefined;
let page: Page;
let token: string;

const asAlice = (...args: string[]) => {
  const r = keyward(args, { KEYWARD_STORE: db.url, KEYWARD_USER: 'alice' });
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout + r.stderr).not.toContain(db.password);
};
/** `keyward keys verify` in a process of its own, as a service holding only the token would. */
const verify = (t: string) => keyward(['keys', 'verify', t], { KEYWARD_STORE: db.url, KEYWARD_USER: 'nobody' });

/**
 * From now on, notes whether any text the workbench shows (views, notifications,
 * dialogs, hovers, the status bar) ever holds `secret`, however briefly (run in
 * the page: text, as this package is type-checked without the DOM's types).
 */
async function watchForText(secret: string): Promise<void> {
  await page.evaluate(`(() => {
    const secret = ${JSON.stringify(secret)};
    window.keywardSecretSeen = [];
    const look = () => {
      const text = document.body.textContent || '';
      if (text.includes(secret)) window.keywardSecretSeen.push(text.slice(Math.max(0, text.indexOf(secret) - 200), text.indexOf(secret) + 50));
    };
    look();
    new MutationObserver(look).observe(document.body, { subtree: true, childList: true, characterData: true });
  })()`);
}

describe('the extension in a real VS Code on a PostgreSQL store', { timeout: 180_000 }, () => {
  beforeAll(async () => {
    db = await createOwnedTestDatabase();
    work = mkdtempSync(join(tmpdir(), 'keyward-vscode-pg-'));
    folder = join(work, 'project');
    mkdirSync(folder);
    writeFileSync(join(folder, 'a.txt'), 'API_KEY=\n');
    // Polled every 5 s (the least): a database has no file to watch, so polling is how the view learns of `keyward init`.
    vscode = await startVsCode({ work, folder, settings: { 'keyward.store': db.url, 'keyward.user': 'alice', 'keyward.refreshSeconds': 5 } });
    page = vscode.page;
    await watchForText(db.password);
  }, 15 * 60_000);

  afterAll(async () => {
    await vscode?.close();
    if (work) rmSync(work, { recursive: true, force: true });
    await db?.drop();
  });

  it('carries the PostgreSQL driver in its bundle: the installed extension has no node_modules and requires no pg module', () => {
    const [installed] = readdirSync(vscode!.extensionsDir).filter((d) => d.startsWith('keyward.'));
    const dir = join(vscode!.extensionsDir, installed);
    expect(existsSync(join(dir, 'node_modules'))).toBe(false);
    const bundle = readFileSync(join(dir, 'dist', 'extension.js'), 'utf8');
    // pg-native stays an optional require of pg's (its `native` getter, never used), as in pg itself.
    expect(bundle).not.toMatch(/require\("(pg|pg-(?!native")[a-z-]+|pgpass)"\)/);
    // pg's client, and the password authentication it signs in with, are in it.
    expect(bundle).toContain('You cannot reuse a client');
    expect(bundle).toContain('SCRAM-SHA-256');
  });

  it('says there is no Keyward store in the database until `keyward init` makes one, then connects', async () => {
    await page.locator('.activitybar a[aria-label="Keyward"]').click();
    const sidebar = page.locator('.part.sidebar');
    await expect.poll(() => sidebar.innerText(), { timeout: 60_000 }).toContain('There is no Keyward store in');
    const said = await sidebar.innerText();
    expect(said).toContain(`127.0.0.1:${new URL(db.url).port}/${db.name}`);
    expect(said).not.toContain(db.password);

    asAlice('init', '--admin', 'alice');
    asAlice('settings', 'set', '--enabled', 'on');
    asAlice('users', 'set', 'alice', '--developer', 'on');
    await expect.poll(() => keysViewRows(page), { timeout: 60_000 }).toContainEqual(expect.stringMatching(/^My keys/));
  });

  it('generates a key from the editor and inserts its token, which another process on the database accepts', async () => {
    await openAtEndOfFirstLine(page, 'a.txt', 'API_KEY=');
    await generateAndInsert(page, DESCRIPTION);
    await expect.poll(() => editorText(page), { timeout: 60_000 }).toMatch(TOKEN);
    token = TOKEN.exec(await editorText(page))![0];
    expect(readFileSync(join(folder, 'a.txt'), 'utf8')).toBe(`API_KEY=${token}\n`);
    const verified = verify(token);
    expect(verified.code, verified.stderr).toBe(0);
    await expect.poll(() => keysViewRows(page), { timeout: 60_000 }).toContainEqual(expect.stringMatching(new RegExp(`^${DESCRIPTION}expires in 30d`)));
  });

  it('revokes the key from the palette; another process on the database then refuses its token', async () => {
    await revokeFromPalette(page, 'deploy', DESCRIPTION);
    await expect.poll(() => verify(token).code, { timeout: 60_000 }).toBe(1);
    expect(codeOf(verify(token))).toBe('UNAUTHENTICATED');
    await expect.poll(() => keysViewRows(page), { timeout: 60_000 }).toContainEqual(expect.stringMatching(new RegExp(`^${DESCRIPTION}revoked`)));
  });

  it("never shows the URL's password: not in the workbench, code-server's output or any file but the settings that hold it", async () => {
    expect(await page.evaluate<string[]>('window.keywardSecretSeen')).toEqual([]);
    expect(await page.content()).not.toContain(db.password);
    expect(vscode!.log()).not.toContain(db.password);
    expect(filesHolding(work, db.password)).toEqual([join(work, 'user-data', 'User', 'settings.json')]);
  });
});

/** Until `ok` holds: the test's timeout is the only bound (what is awaited has no deadline of its own). */
async function until(ok: () => Promise<boolean>): Promise<void> {
  while (!(await ok())) await new Promise((r) => setTimeout(r, 250));
}

describe('the Keys view on a PostgreSQL store follows another process at once, not at its next poll', { timeout: 180_000 }, () => {
  let other: TestDatabase;
  let otherWork: string;
  let code: VsCode | undefined;
  const asBob = (...args: string[]) => {
    const r = keyward(args, { KEYWARD_STORE: other.url, KEYWARD_USER: 'bob' });
    expect(r.code, r.stderr).toBe(0);
    return r.stdout;
  };

  beforeAll(async () => {
    other = await createOwnedTestDatabase();
    asBob('init', '--admin', 'bob');
    asBob('settings', 'set', '--enabled', 'on');
    asBob('users', 'set', 'bob', '--developer', 'on');
    otherWork = mkdtempSync(join(tmpdir(), 'keyward-vscode-pg-live-'));
    const project = join(otherWork, 'project');
    mkdirSync(project);
    // An hour between polls: a change that shows within this test was not found by polling.
    code = await startVsCode({ work: otherWork, folder: project, settings: { 'keyward.store': other.url, 'keyward.user': 'bob', 'keyward.refreshSeconds': 3600 } });
  }, 15 * 60_000);

  afterAll(async () => {
    await code?.close();
    if (otherWork) rmSync(otherWork, { recursive: true, force: true });
    await other?.drop();
  });

  it('shows a key another process creates, then revokes, with no click', async () => {
    const p = code!.page;
    await p.locator('.activitybar a[aria-label="Keyward"]').click();
    await expect.poll(() => keysViewRows(p), { timeout: 60_000 }).toContainEqual(expect.stringMatching(/^My keys/));
    // Nothing yet: the view has read the store.
    expect(await keysViewRows(p)).not.toContainEqual(expect.stringMatching(/^made elsewhere/));

    const { id } = JSON.parse(asBob('keys', 'create', '--description', 'made elsewhere', '--json')) as { id: string };
    await until(async () => (await keysViewRows(p)).some((r) => /^made elsewhere/.test(r)));

    asBob('keys', 'revoke', id);
    await until(async () => (await keysViewRows(p)).some((r) => /^made elsewhererevoked/.test(r)));
  });
});
