// A real VS Code for the end-to-end tests, whatever store they put behind it:
// code-server 4.96 (VS Code 1.96) installed by ../shared/tools/code-server/install.sh,
// the extension packaged as a .vsix and installed into it, opened on a folder
// and driven from headless Chromium with playwright-core. Plus the few ways of
// driving and reading the workbench that the tests share.
//
// KEYWARD_CODE_SERVER_ENTRY=path/to/entry.js skips running install.sh.

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type Page, chromium } from 'playwright-core';
import { expect } from 'vitest';
import { freePort } from '../../../../test/support/free-port.js';

export const packageDir = fileURLToPath(new URL('../..', import.meta.url));
export const repoRoot = resolve(packageDir, '../..');
const installScript = resolve(repoRoot, '../shared/tools/code-server/install.sh');
export const TOKEN = /kw_[0-9a-f]{24}_[a-z2-7]{32}[0-9a-f]{8}/;

export function lastLine(text: string): string {
  return text.trim().split('\n').at(-1)!.trim();
}

function codeServerEntry(): string {
  if (process.env.KEYWARD_CODE_SERVER_ENTRY) return process.env.KEYWARD_CODE_SERVER_ENTRY;
  if (!existsSync(installScript)) throw new Error(`code-server installer not found at ${installScript} (shared/ must sit beside the checkout)`);
  // Idempotent: reuses ~/.cache/code-server-4.96.4 after the first run (about three minutes).
  // Under a lock: the JSON and the PostgreSQL tests start at once, and two first installs
  // would remove and fill the same directory together; the second waits, then reuses it.
  const lock = join(tmpdir(), 'keyward-code-server-install.lock');
  return lastLine(execFileSync('flock', [lock, 'bash', installScript], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }));
}

export interface VsCode {
  page: Page;
  /** Where the .vsix was packaged, and the extension installed. */
  vsix: string;
  extensionsDir: string;
  /** What code-server printed. */
  log(): string;
  /** Closes the browser and stops code-server with its extension host. */
  close(): Promise<void>;
}

/**
 * code-server on a free loopback port with the extension installed, user data
 * and extensions under `work`, the user `settings` (over a quiet workbench's),
 * and `folder` open in a browser page, once the Keyward activity bar entry is there.
 */
export async function startVsCode(o: { work: string; folder: string; settings: Record<string, unknown> }): Promise<VsCode> {
  const entry = codeServerEntry();
  const userData = join(o.work, 'user-data');
  const extensionsDir = join(o.work, 'extensions');
  const vsix = lastLine(execFileSync(process.execPath, [join(packageDir, 'vsix.mjs'), '--out', join(o.work, 'keyward.vsix')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }));
  execFileSync(process.execPath, [entry, '--user-data-dir', userData, '--extensions-dir', extensionsDir, '--install-extension', vsix], { stdio: 'ignore' });

  mkdirSync(join(userData, 'User'), { recursive: true });
  writeFileSync(
    join(userData, 'User', 'settings.json'),
    JSON.stringify({
      'workbench.startupEditor': 'none',
      'security.workspace.trust.enabled': false,
      'workbench.tips.enabled': false,
      'extensions.ignoreRecommendations': true,
      'telemetry.telemetryLevel': 'off',
      // As in desktop VS Code (the web's default saves a second after each change, which would
      // hide an editor left unsaved): an unsaved editor stays unsaved, and is backed up to disk.
      'files.autoSave': 'off',
      ...o.settings,
    }),
  );
  const port = await freePort();
  let log = '';
  // Own process group, so the whole server (and its extension host) stops with it.
  const server: ChildProcess = spawn(
    process.execPath,
    [entry, '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--config', join(o.work, 'code-server.yaml'), '--user-data-dir', userData, '--extensions-dir', extensionsDir, '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', o.folder],
    { detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  server.stdout!.on('data', (d) => (log += d));
  server.stderr!.on('data', (d) => (log += d));
  const exited = new Promise<void>((r) => server.once('exit', () => r()));
  let browser: Browser | undefined;
  const close = async () => {
    await browser?.close();
    if (server.pid && server.exitCode === null && server.signalCode === null) {
      try {
        process.kill(-server.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      await exited;
    }
  };
  try {
    await waitForHttp(`http://127.0.0.1:${port}/healthz`, 60_000, server, () => log);
    browser = await chromium.launch({
      executablePath: process.env.KEYWARD_CHROMIUM ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.setDefaultTimeout(30_000);
    await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(o.folder)}`);
    await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
    // The Keyward activity bar entry appears once the extension is registered.
    await page.locator('.activitybar a[aria-label="Keyward"]').waitFor({ timeout: 60_000 });
    return { page, vsix, extensionsDir, log: () => log, close };
  } catch (e) {
    await close();
    throw e;
  }
}

async function waitForHttp(url: string, ms: number, server: ChildProcess, log: () => string): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    if (server.exitCode !== null) throw new Error(`code-server exited early:\n${log()}`);
    if (Date.now() > until) throw new Error(`code-server did not answer at ${url}:\n${log()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function runFromPalette(page: Page, command: string): Promise<void> {
  await page.keyboard.press('F1');
  const widget = page.locator('.quick-input-widget');
  await widget.waitFor({ state: 'visible' });
  await page.keyboard.type(command);
  await widget.locator('.monaco-list-row', { hasText: command }).first().waitFor();
  await page.keyboard.press('Enter');
}

export async function waitForQuestion(page: Page, title: string | RegExp): Promise<void> {
  await page.locator('.quick-input-widget .quick-input-title', { hasText: title }).waitFor({ state: 'visible' });
}

/** Opens a file of the workspace folder by Quick Open and puts the cursor at the end of its first line. */
export async function openAtEndOfFirstLine(page: Page, name: string, firstLine: string): Promise<void> {
  await page.keyboard.press('Control+P');
  await page.locator('.quick-input-widget').waitFor({ state: 'visible' });
  await page.keyboard.type(name);
  await page.locator('.quick-input-widget .monaco-list-row', { hasText: name }).first().waitFor();
  await page.keyboard.press('Enter');
  await page.locator('.monaco-editor .view-lines', { hasText: firstLine }).first().waitFor();
  await page.locator('.monaco-editor .view-lines').first().click();
  await page.keyboard.press('Control+Home');
  await page.keyboard.press('End');
}

/**
 * Generate API Key from the palette: `description`, the tenant maximum (30 days
 * by default, the first choice), the token inserted at the cursor.
 */
export async function generateAndInsert(page: Page, description: string): Promise<void> {
  await runFromPalette(page, 'Keyward: Generate API Key');
  await waitForQuestion(page, 'Generate API Key (1/2)');
  await page.keyboard.type(description);
  await page.keyboard.press('Enter');
  await waitForQuestion(page, 'Generate API Key (2/2)');
  await page.locator('.quick-input-widget .monaco-list-row').first().filter({ hasText: '30 days' }).waitFor();
  await page.keyboard.press('Enter');
  await waitForQuestion(page, 'where should the token go');
  await page.locator('.quick-input-widget .monaco-list-row').first().filter({ hasText: 'Insert at cursor' }).waitFor();
  await page.keyboard.press('Enter');
}

/** Revoke API Key from the palette: the key found by `search`, named `description`, confirmed in the dialog. */
export async function revokeFromPalette(page: Page, search: string, description: string): Promise<void> {
  await runFromPalette(page, 'Keyward: Revoke API Key');
  await waitForQuestion(page, 'Revoke API Key');
  await page.keyboard.type(search);
  await page.locator('.quick-input-widget .monaco-list-row', { hasText: description }).first().waitFor();
  await page.keyboard.press('Enter');
  const dialog = page.locator('.monaco-dialog-box');
  await dialog.waitFor({ state: 'visible' });
  expect(await dialog.innerText()).toContain(`Revoke API key "${description}"?`);
  await dialog.getByRole('button', { name: 'Revoke' }).click();
}

export async function editorText(page: Page): Promise<string> {
  return (await page.locator('.monaco-editor .view-lines').first().innerText()).replace(/\u00a0/g, ' ');
}

export async function keysViewRows(page: Page): Promise<string[]> {
  return page.locator('.pane-body .monaco-list-row').allInnerTexts();
}

/**
 * The files under `dir` holding `text`, except VS Code's own Local History
 * (user-data/User/History), which keeps a copy of every file saved, whoever
 * saves it (the README says how to exclude .env).
 */
export function filesHolding(dir: string, text: string): string[] {
  let out = '';
  try {
    out = execFileSync('grep', ['-rlF', text, dir], { encoding: 'utf8' });
  } catch (e) {
    if ((e as { status?: number }).status !== 1) throw e; // 1: nothing holds it
  }
  const holders = out.trim().split('\n').filter(Boolean);
  return holders.filter((f) => !f.startsWith(join(dir, 'user-data', 'User', 'History') + '/')).sort();
}
