// The terminal UI end to end: the built `keyward` in a real pseudo-terminal
// (node-pty), its output fed to a terminal emulator (xterm headless) so the
// tests read the screen a person would see, and the raw bytes kept so they
// can check what was written (OSC 52, the alternate screen).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createJsonFileStore } from '@keyward/core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { keyward, keywardBin, repoRoot, tempDir } from './support/keyward.js';
import { ALT_ON, ENTER, ESC, Session, TOKEN, becomeDeveloper, enableApiKeys, generate, killSessions } from './support/pty-session.js';

afterEach(killSessions);

function newStore(): string {
  const store = join(tempDir('keyward-tui-'), 'keyward.json');
  const r = keyward(['init', '--tenant', 'Acme', '--admin', 'alice'], { KEYWARD_STORE: store, KEYWARD_USER: 'alice' });
  expect(r.code, r.stderr).toBe(0);
  return store;
}

const ui = (store: string, user: string, env: Record<string, string> = {}, size?: { cols: number; rows: number }) =>
  new Session([keywardBin, '--store', store, '--as', user], env, size);

const cli = (store: string, user: string, ...args: string[]) => {
  const r = keyward(args, { KEYWARD_STORE: store, KEYWARD_USER: user });
  expect(r.code, r.stderr + r.stdout).toBe(0);
  return r.stdout;
};

beforeAll(() => {
  expect(() => readFileSync(keywardBin), 'build keyward first: node scripts/build.mjs').not.toThrow();
});

describe('the terminal UI in a real terminal', () => {
  it('takes an admin from enabling keys to revoking them, and gives the terminal back on q', async () => {
    const store = newStore();
    const s = ui(store, 'alice');
    await s.waitFor('1 Keys');
    expect(s.alternate).toBe(true);
    expect(s.screen()).toContain('alice (TenantAdmin)');
    expect(s.screen()).toContain(store.slice(0, 30));

    await enableApiKeys(s);
    await becomeDeveloper(s, 'alice');

    // Generate a key and copy its token: the OSC 52 sequence carries it.
    s.press('5');
    await s.waitFor('My keys');
    const token = await generate(s, 'deploy prod');
    s.press('c');
    await s.rawIncludes(`\u001b]52;c;${Buffer.from(token).toString('base64')}\u0007`);
    await s.waitFor('Token copied via OSC 52');
    expect(keyward(['keys', 'verify', token], { KEYWARD_STORE: store }).code).toBe(0);
    s.press(ESC);
    await s.waitFor((screen) => screen.includes('1/1 key') && !TOKEN.test(screen));
    await generate(s, 'deploy staging');
    s.press(ESC);
    await s.waitFor('1/2 keys');
    await generate(s, 'backup');
    s.press(ESC);
    await s.waitFor('1/3 keys');

    // Search Keys, select the two deploy keys, revoke them.
    s.press('1');
    await s.waitFor('Keys  1/3 keys');
    s.press('/');
    await s.type('deploy');
    await s.waitFor('2 matches');
    s.press(ENTER);
    await s.waitFor('search "deploy"');
    s.press(' ', ' ');
    await s.waitFor('2 selected keys');
    s.press('r');
    const confirm = await s.waitFor('Revoke 2 keys?');
    expect(confirm).toContain('2 active keys will be revoked now');
    s.press('y');
    await s.waitFor('Revoked 2 keys.');
    const revoked = JSON.parse(cli(store, 'alice', 'keys', 'ls', '--status', 'revoked', '--json')).data.map((k: { description: string }) => k.description);
    expect(revoked.sort()).toEqual(['deploy prod', 'deploy staging']);

    // Read the events, open the newest, jump to its key.
    s.press('2');
    let screen = await s.waitFor('events · usage hidden (u shows)');
    const first = screen.split('\n').find((l) => l.startsWith('›'))!;
    expect(first).toContain('revoked');
    s.press(ENTER);
    screen = await s.waitFor('Event api-key.revoked');
    const keyId = /key\s+([0-9a-f]{24})/.exec(screen)![1];
    s.press(ESC, 'o');
    screen = await s.waitFor(`search "${keyId}"`);
    await s.waitFor('1/1 key');
    expect(s.screen()).toContain('✕ revoked');

    s.press('q');
    expect((await s.exit).exitCode).toBe(0);
    await s.expectRestored();
  });

  it('shows a developer only My keys', async () => {
    const store = newStore();
    cli(store, 'alice', 'settings', 'set', '--enabled', 'on');
    cli(store, 'alice', 'users', 'add', 'bob', '--licence');
    cli(store, 'alice', 'users', 'set', 'bob', '--developer', 'on');
    cli(store, 'bob', 'keys', 'create', '--description', 'laptop');
    const s = ui(store, 'bob');
    const screen = await s.waitFor('laptop');
    expect(screen).toContain('5 My keys');
    expect(screen).not.toMatch(/1 Keys|2 Events|3 Settings|4 Users/);
    s.press('1');
    await s.waitFor('are for tenant admins');
    expect(s.screen()).toContain('My keys  1/1 key');
    s.press('\u0003');
    expect((await s.exit).exitCode).toBe(0);
    await s.expectRestored();
  });

  it('rotates a key with R: the new token once, copied through OSC 52; both tokens work during the overlap', async () => {
    const store = newStore();
    cli(store, 'alice', 'settings', 'set', '--enabled', 'on');
    cli(store, 'alice', 'users', 'set', 'alice', '--developer', 'on');
    const s = ui(store, 'alice');
    await s.waitFor('1 Keys');
    s.press('5');
    await s.waitFor('My keys');
    const old = await generate(s, 'ci deploy');
    s.press(ESC);
    await s.waitFor('1/1 key');
    s.press('R');
    await s.waitFor('Overlap PT1H');
    s.press(ENTER);
    const screen = await s.waitFor((f) => TOKEN.test(f) && f.includes('old token'));
    const fresh = TOKEN.exec(screen)![0];
    expect(fresh).not.toBe(old);
    s.press('c');
    await s.rawIncludes(`\u001b]52;c;${Buffer.from(fresh).toString('base64')}`);
    s.press(ESC);
    await s.waitFor('1/2 keys');
    expect(s.screen()).not.toMatch(TOKEN);
    s.press('q');
    expect((await s.exit).exitCode).toBe(0);
    for (const token of [old, fresh]) expect(keyward(['keys', 'verify', token], { KEYWARD_STORE: store, KEYWARD_USER: 'alice' }).code).toBe(0);
  });

  it('shows a description holding escape sequences inert', async () => {
    const store = newStore();
    cli(store, 'alice', 'settings', 'set', '--enabled', 'on');
    cli(store, 'alice', 'users', 'set', 'alice', '--developer', 'on');
    cli(store, 'alice', 'keys', 'create', '--description', 'placeholder');
    // The engine refuses control characters, so they go straight into the store past it, as tampering would.
    const raw = createJsonFileStore(store);
    const [planted] = (await raw.findKeys({ limit: 1, now: Date.now() })).data;
    await raw.transact((tx) => tx.putKey({ ...planted, description: '\u001b[2J\u001b]0;pwned\u0007\u001b[31mevil\u001b[0m' }));
    await raw.close();

    const s = ui(store, 'alice', {}, { cols: 120, rows: 30 });
    const screen = await s.waitFor('evil');
    expect(screen).toContain('␛[2J␛]0;pwned^G␛[31mevil␛[0m');
    expect(s.titles).toEqual([]);
    expect(s.raw).not.toContain('\u001b]0;pwned');
    expect(s.raw).not.toContain('\u001b[31mevil');
    s.press(ENTER);
    await s.waitFor('created by');
    expect(s.screen()).toContain('␛[2J␛]0;pwned^G');
    expect(s.titles).toEqual([]);
    s.press(ESC, 'q');
    await s.exit;
    await s.expectRestored();
  });

  it('honours NO_COLOR', async () => {
    const store = newStore();
    const sgr = (raw: string) => [...raw.matchAll(/\u001b\[([0-9;]*)m/g)].flatMap((m) => m[1].split(';')).filter((p) => /^(3[0-8]|4[0-8]|9[0-7]|10[0-7])$/.test(p));
    const coloured = ui(store, 'alice');
    await coloured.waitFor('1 Keys');
    expect(sgr(coloured.raw).length).toBeGreaterThan(0);
    coloured.press('q');
    await coloured.exit;

    const plain = ui(store, 'alice', { NO_COLOR: '1' });
    await plain.waitFor('1 Keys');
    plain.press('3');
    await plain.waitFor(/API keys\s+off/);
    plain.press('q');
    await plain.exit;
    expect(sgr(plain.raw)).toEqual([]);
  });

  it('redraws cleanly when the terminal is resized', async () => {
    const store = newStore();
    cli(store, 'alice', 'settings', 'set', '--enabled', 'on');
    cli(store, 'alice', 'users', 'set', 'alice', '--developer', 'on');
    const id = JSON.parse(cli(store, 'alice', 'keys', 'create', '--description', 'wide', '--json')).id as string;
    const s = ui(store, 'alice');
    let screen = await s.waitFor('wide');
    expect(screen).not.toContain(id);
    for (const [cols, rows] of [
      [140, 40],
      [80, 24],
      [100, 30],
    ]) {
      s.proc.resize(cols, rows);
      s.term.resize(cols, rows);
      // The emulator keeps the old frame (cut or moved) until the redraw arrives: wait for a whole new one.
      screen = await s.waitFor((sc) => {
        const l = sc.split('\n');
        return l[0].startsWith('Keyward  alice') && l[rows - 2].includes('q quit') && (cols < 130 || sc.includes(id));
      });
      const lines = screen.split('\n');
      expect(lines.filter((l) => l.startsWith('Keyward'))).toHaveLength(1);
      expect(lines.filter((l) => l.includes('q quit'))).toHaveLength(1);
    }
    s.press('q');
    await s.exit;
    await s.expectRestored();
  });

  it('gives the terminal back on SIGTERM', async () => {
    const store = newStore();
    const s = ui(store, 'alice');
    await s.waitFor('1 Keys');
    s.proc.kill('SIGTERM');
    const exit = await s.exit;
    expect(exit.signal).toBe(15);
    await s.expectRestored();
  });

  it('gives the terminal back when the program crashes', async () => {
    const store = newStore();
    const s = new Session(['--import', 'tsx', join(repoRoot, 'packages/tui/test/fixtures/crash-ui.tsx'), store, 'alice']);
    const exit = await s.exit;
    expect(exit.exitCode).toBe(1);
    expect(s.raw).toContain(ALT_ON);
    expect(s.raw).toContain('crashed: injected crash');
    await s.expectRestored();
  });
});
