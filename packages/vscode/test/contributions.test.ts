// The manifest (package.json) and the code must agree: every command, view,
// menu entry, setting and context key in one exists in the other.

import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { COMMANDS, CONTEXT, KEYS_VIEW, VIEW_CONTAINER } from '../src/ids.js';
import { keyContextValue } from '../src/key-presentation.js';
import { type ApiKey, DEFAULT_SETTINGS, type KeyView, type Role, keyActions } from '@keyward/core';
import { activateOn } from './activate.js';
import { fileTenant } from './helpers.js';
import { mock } from './mock/vscode.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const contributes = manifest.contributes;
const contributed = (contributes.commands as { command: string }[]).map((c) => c.command).sort();
const menuEntries = Object.values(contributes.menus as Record<string, { command: string; when?: string }[]>).flat();
const whenClauses = [...menuEntries.map((m) => m.when ?? ''), ...(contributes.viewsWelcome as { when?: string }[]).map((w) => w.when ?? '')];

async function activated() {
  const t = await fileTenant();
  await activateOn({ store: t.path, user: 'alice' });
}

describe('package.json contributions', () => {
  it('registers every contributed command, and contributes every registered one', async () => {
    await activated();
    expect([...mock.commands.keys()].sort()).toEqual(contributed);
    expect(Object.values(COMMANDS).sort()).toEqual(contributed);
  });

  it('creates every contributed view, in the Keyward container, and no other', async () => {
    await activated();
    const views = Object.entries(contributes.views as Record<string, { id: string }[]>).flatMap(([container, vs]) => vs.map((v) => `${container}/${v.id}`));
    expect(views).toEqual([`${VIEW_CONTAINER}/${KEYS_VIEW}`]);
    expect([...mock.treeViews.keys()]).toEqual([KEYS_VIEW]);
    expect(contributes.viewsContainers.activitybar.map((c: { id: string }) => c.id)).toEqual([VIEW_CONTAINER]);
  });

  it('names only contributed commands in menus and welcome links', () => {
    for (const m of menuEntries) expect(contributed).toContain(m.command);
    for (const w of contributes.viewsWelcome as { contents: string }[]) {
      for (const [, id] of w.contents.matchAll(/\(command:([\w.]+)/g)) {
        if (!id.startsWith('workbench.')) expect(contributed).toContain(id);
      }
    }
  });

  it('puts every command a Keys view row offers in that view only', () => {
    for (const m of (contributes.menus['view/item/context'] as { when: string }[]).concat(contributes.menus['view/title'])) {
      expect(m.when).toMatch(new RegExp(`^view == ${KEYS_VIEW.replace('.', '\\.')}\\b`));
    }
  });

  it('uses only context keys the code sets, and the code sets each of them', async () => {
    const used = new Set(whenClauses.flatMap((w) => [...w.matchAll(/\b(keyward\.\w+)/g)].map((m) => m[1])).filter((k) => k !== KEYS_VIEW));
    expect([...used].sort()).toEqual(Object.values(CONTEXT).sort());
    await activated();
    for (const key of Object.values(CONTEXT)) expect(mock.context.has(key)).toBe(true);
  });

  it('matches row menus on flags the rows really carry', () => {
    const flags = new Set(menuEntries.flatMap((m) => [...(m.when ?? '').matchAll(/viewItem =~ \/\\b(\w+)\\b\//g)].map((x) => x[1])));
    const produced = new Set<string>();
    // Views as core builds them: the actions each role may take on its own and others' keys, in each status.
    const now = Date.parse('2026-06-01T00:00:00Z');
    const roles: Role[][] = [[], ['Developer'], ['TenantAdmin'], ['TenantAdmin', 'Developer']];
    for (const r of roles) {
      for (const status of ['active', 'expired', 'revoked'] as const) {
        for (const sub of ['me', 'other']) {
          const stored: ApiKey = { id: 'a'.repeat(24), description: 'd', owner: sub, createdBy: sub, created: '', lastUpdated: '', expiry: status === 'expired' ? '2026-01-01T00:00:00.000Z' : '2099-01-01T00:00:00.000Z', hash: '', ...(status === 'revoked' ? { revokedAt: '2026-01-01T00:00:00.000Z' } : {}) };
          const actions = keyActions({ id: 'me', licence: true, roles: r, created: '' }, stored, { ...DEFAULT_SETTINGS, apiKeysEnabled: true }, now);
          const view = { id: stored.id, description: 'd', sub, status, expiry: stored.expiry, actions } as KeyView;
          keyContextValue(view, now).split(' ').forEach((f) => produced.add(f));
        }
      }
    }
    expect([...flags].sort()).toEqual(['delete', 'key', 'rename', 'revoke', 'rotate']);
    for (const f of flags) expect(produced).toContain(f);
  });

  it('declares every setting the code reads, and reads every declared one', async () => {
    await activated();
    await new Promise((r) => setTimeout(r, 0));
    const declared = Object.keys(contributes.configuration.properties).sort();
    expect([...mock.configurationRead].sort()).toEqual(declared);
  });

  it('points main at the bundle build.mjs writes, for the VS Code the types describe', () => {
    expect(manifest.main).toBe('./dist/extension.js');
    expect(readFileSync(join(root, 'build.mjs'), 'utf8')).toContain("outfile: here + 'dist/extension.js'");
    expect(manifest.engines.vscode).toBe(`^${manifest.devDependencies['@types/vscode']}`);
    expect(manifest.type).toBeUndefined();
    expect(manifest.activationEvents).toEqual(['onStartupFinished']);
  });

  it('keeps the vscode module out of the plain modules (they are tested without it)', () => {
    const src = join(root, 'src');
    const files = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    const users = files.filter((f) => /from 'vscode'/.test(readFileSync(join(src, f), 'utf8'))).sort();
    expect(users.length).toBeGreaterThan(5);
    for (const f of users) expect(f === 'extension.ts' || f.startsWith('editor/')).toBe(true);
  });
});
