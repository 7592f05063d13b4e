// The terminal UI's first hour (issue 13), in a real terminal: a new admin
// from an empty store to a working key without leaving the UI; help that
// fits; refusals that do not outstay the next success; a 7-day key that does
// not warn at once; events with the usage batches hidden so excessive use
// stands out; uses on the Keys screen; usage headers that read clearly.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { keyward, keywardBin, tempDir } from './support/keyward.js';
import { startServe } from './support/serve.js';
import { ESC, Session, TOKEN, describeKey, generate, killSessions } from './support/pty-session.js';

afterEach(killSessions);


function readyStore(): string {
  const store = join(tempDir('keyward-tui1-'), 'keyward.json');
  for (const args of [
    ['init', '--tenant', 'Acme', '--admin', 'alice'],
    ['settings', 'set', '--enabled', 'on'],
    ['users', 'set', 'alice', '--developer', 'on'],
  ]) {
    const r = keyward(args, { KEYWARD_STORE: store, KEYWARD_USER: 'alice' });
    expect(r.code, r.stderr).toBe(0);
  }
  return store;
}

const ui = (store: string, size = { cols: 100, rows: 30 }) => new Session([keywardBin, '--store', store, '--as', 'alice'], {}, size);

describe('the first hour in the terminal UI', () => {
  it('takes a new admin from an empty store to a working key without leaving the UI', async () => {
    // A home as long as some are (a long user name): the status line's two lines cannot hold the whole path.
    const data = join(tempDir('keyward-tui1-home-'), 'home-of-someone-with-a-rather-long-name', '.local', 'share');
    mkdirSync(data, { recursive: true });
    const s = new Session([keywardBin], { XDG_DATA_HOME: data, KEYWARD_USER: 'carol' }, { cols: 80, rows: 24 });
    const store = join(data, 'keyward', 'keyward.json');
    // What was done on carol's behalf is said inside the UI, with where her first key is — whole, at 80
    // columns, whatever the path's length: the path comes last, and the header shows it too.
    let screen = await s.waitFor((sc) => s.alternate && sc.includes('your first key'));
    expect(screen.replace(/\s+/g, ' ')).toContain('You (carol) are the first tenant admin of a new store. My keys (5), then n: your first key. It is at');
    expect(store.length).toBeGreaterThan(80);

    s.press('5', 'n');
    screen = await s.waitFor('You cannot generate a key yet');
    expect(screen).toContain('API keys are disabled');
    expect(screen).toContain('press y to enable API keys for the tenant');
    s.press('y');
    screen = await s.waitFor('press y to give yourself the Developer role');
    expect(screen).toContain('(DEVELOPER_ROLE_REQUIRED)');
    s.press('y');
    const token = await describeKey(s, 'first key');
    expect(keyward(['keys', 'verify', token], { KEYWARD_STORE: store }).code).toBe(0);
    s.press(ESC, 'q');
    expect((await s.exit).exitCode).toBe(0);
    await s.expectRestored();
  });

  it('shows every help line whole at 100 columns', async () => {
    const s = ui(readyStore());
    await s.waitFor('1 Keys');
    s.press('?');
    const screen = await s.waitFor('Help: Keys');
    for (const line of ['Move down, up, to the first or last row, a page down or up', 'Revoke the current or the selected keys, after a confirmation', 'Search by description, id or owner (esc clears)']) {
      expect(screen).toContain(line);
    }
    // No line of the help is cut (the header's location may be: a long path).
    const help = screen.split('\n').filter((l) => l.includes('│'));
    expect(help.length).toBeGreaterThan(5);
    for (const l of help) expect(l).not.toContain('…');
  });

  it('clears an old refusal from the status line once a later change succeeds', async () => {
    const s = ui(readyStore());
    await s.waitFor('status all'); // keys pressed before the UI is up are not seen
    s.press('4');
    await s.waitFor('alice (you)');
    s.press('A'); // the only admin cannot step down: her user's view says so, so nothing is asked
    await s.waitFor("alice is the tenant's only admin");
    expect(s.screen()).not.toContain('Take your own TenantAdmin role?');
    s.press('5');
    await s.waitFor('My keys');
    await generate(s, 'after the refusal');
    s.press(ESC);
    await s.waitFor((screen) => screen.includes('after the refusal') && !TOKEN.test(screen));
    expect(s.screen()).not.toContain('only admin');
  });

  it('shows a key just made to live 7 days as "in 7d", without the expiring-soon warning', async () => {
    const store = readyStore();
    const run = (...args: string[]) => expect(keyward(args, { KEYWARD_STORE: store, KEYWARD_USER: 'alice' }).code).toBe(0);
    run('keys', 'create', '--description', 'a week', '--expiry', '7d');
    run('keys', 'create', '--description', 'three days', '--expiry', '3d');
    const s = ui(store);
    await s.waitFor('Keys  1/2 keys');
    s.press('5');
    const screen = await s.waitFor(/My keys\s+1\/2 keys/);
    expect(screen).toMatch(/a week .* in 7d /);
    expect(screen).not.toMatch(/a week .*⚠/);
    expect(screen).toMatch(/three days .* in 3d ⚠/);
    expect(screen).toContain('⚠ 1 expiring within 7 days');
  });

  it('hides the usage batches among events so excessive use stands out; Keys and usage count uses under clear headers', async () => {
    const store = readyStore();
    const env = { KEYWARD_STORE: store, KEYWARD_USER: 'alice' };
    expect(keyward(['settings', 'set', '--excessive-use', '1'], env).code).toBe(0);
    const token = keyward(['keys', 'create', '--description', 'busy bot'], env).stdout.trim();
    keyward(['keys', 'create', '--description', 'quiet'], env);
    // A real server counts 30 uses in one minute, then flushes them on SIGTERM.
    const { url, child: server } = await startServe(store);
    for (let i = 0; i < 30; i++) expect((await fetch(`${url}/api/v1/users/me`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    const stopped = new Promise((r) => server.on('exit', r));
    server.kill('SIGTERM');
    await stopped;

    const usage = keyward(['usage'], env).stdout;
    expect(usage.split('\n')[0]).toMatch(/^KEY\s+DESCRIPTION\s+OWNER\s+STATUS\s+USES\s+LAST USED\s+FLAG$/);
    expect(usage).toMatch(/busy bot\s+alice\s+active\s+30\s+.*excessive use/);

    const s = ui(store, { cols: 120, rows: 40 });
    await s.waitFor(/busy bot .* 30 ● active/);
    expect(s.screen()).toMatch(/quiet .* 0 ● active/);

    s.press('2');
    let screen = await s.waitFor((sc) => sc.includes('usage hidden (u shows)') && sc.includes('excessive-use'));
    expect(screen).not.toMatch(/\bused\b.*30 uses/);
    expect(screen).toMatch(/USES 1H\s+USES 24H\s+VS BUSIEST\s+FLAG/);
    s.press('u');
    screen = await s.waitFor('usage shown (u hides)');
    await s.waitFor(/used .*30 uses/);
    s.press('u');
    await s.waitFor('usage hidden (u shows)');
  });

  it('removes a user from the Users screen, saying first what happens to their keys', async () => {
    const store = readyStore();
    const env = { KEYWARD_STORE: store, KEYWARD_USER: 'alice' };
    for (const args of [['users', 'add', 'bob', '--licence'], ['users', 'set', 'bob', '--developer', 'on']]) expect(keyward(args, env).code).toBe(0);
    const token = keyward(['keys', 'create', '--description', 'bob laptop'], { ...env, KEYWARD_USER: 'bob' }).stdout.trim();
    const s = ui(store);
    await s.waitFor('status all');
    s.press('4');
    await s.waitFor('2 users of tenant Acme');
    s.press('j');
    await s.waitFor(/›\s+bob/);
    s.press('x');
    const screen = await s.waitFor('Remove bob?');
    expect(screen).toContain('Their 1 active key will be revoked first, at once and for good:');
    expect(screen).toContain('"bob laptop"');
    s.press('y');
    await s.waitFor('Removed bob; 1 active key revoked.');
    await s.waitFor('1 user of tenant Acme');
    expect(keyward(['keys', 'verify', token], env).code).toBe(1);
  });
});
