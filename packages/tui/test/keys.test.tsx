import { cleanup } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import { osc52 } from '../src/ui/clipboard.js';
import { KEY, openApp, readyTenantWithKeys } from './harness.js';

afterEach(cleanup);

async function withKeys() {
  const t = await readyTenantWithKeys([
    { who: 'bob', description: 'deploy prod', expiry: 'P30D' },
    { who: 'bob', description: 'deploy staging', expiry: 'P30D' },
    { who: 'alice', description: 'backup', expiry: 'P30D' },
    { who: 'bob', description: 'one-off', expiry: 'PT1M' },
  ]);
  t.clock.advance(120_000); // one-off has expired
  return t;
}

describe('Keys', () => {
  it('lists every key of the tenant with owner, dates and a status readable without colour', async () => {
    const t = await withKeys();
    const app = await openApp(t.alice);
    const f = await app.waitFor('1/4 keys');
    expect(f).toMatch(/one-off\s+[0-9a-f]{8} bob\s+.*\s0 ○ expired/);
    expect(f).toMatch(/backup\s+[0-9a-f]{8} alice .*● active/);
    expect(f).toContain('DESCRIPTION');
    expect(f).toContain('LAST USED');
    expect(f).toContain('USES 24H');
  });

  it('follows a change made elsewhere at once, not at its next poll (ten minutes away)', async () => {
    const t = await withKeys();
    const app = await openApp(t.alice);
    await app.waitFor('1/4 keys');
    // Other faces on the same store: the UI is told by the store, not by its own actions.
    await t.bob.generateKey({ description: 'made elsewhere' });
    await app.waitFor((f) => f.includes('1/5 keys') && f.includes('made elsewhere'));
    await t.engine.as('alice').revokeKey(t.made['deploy prod']);
    await app.waitFor(/deploy prod .*✕ revoked/);
  });

  it('searches by description, id or owner; esc clears', async () => {
    const t = await withKeys();
    const app = await openApp(t.alice);
    await app.waitFor('1/4 keys');
    await app.press('/');
    await app.waitFor('Search:');
    await app.type('stag');
    let f = await app.waitFor('1 match ·');
    expect(f).toContain('deploy staging');
    expect(f).not.toContain('backup');
    await app.press(KEY.enter);
    await app.waitFor('search "stag" (esc clears)');
    await app.press(KEY.esc);
    await app.waitFor('1/4 keys');

    await app.press('/');
    await app.type('bob');
    f = await app.waitFor('3 matches');
    expect(f).not.toContain('backup');
    await app.press(KEY.esc);
    await app.waitFor('1/4 keys');

    await app.press('/');
    await app.type(t.made.backup.slice(0, 10));
    f = await app.waitFor('1 match ·');
    expect(f).toContain('backup');
  });

  it('routes keys typed faster than the screen redraws where a person expects', async () => {
    const t = await withKeys();
    const app = await openApp(t.alice);
    await app.waitFor('1/4 keys');
    // One read, as over SSH: "/" opens the search, the rest is typed into it.
    app.stdin.write('/deploy');
    await app.waitFor('Search: deploy ');
    await app.waitFor('2 matches');
    // Separate reads with no time to draw in between.
    for (const k of ['\r', '/', 'x', 'y']) app.stdin.write(k);
    await app.waitFor('Search: deployxy');
    app.stdin.write(KEY.esc);
    await app.waitFor('1/4 keys');
    for (const k of ['j', 'j', 'r']) app.stdin.write(k);
    const f = await app.waitFor('Revoke this key?');
    expect(f).toContain('• deploy staging');
  });

  it('shows a key as expired once its time passes, without a restart', async () => {
    const t = await withKeys();
    // A refresh every 300 ms: at 50 ms on a loaded machine, back-to-back refreshes kept React busy and the keypress (queued at idle priority, keypress-layer.tsx) waited past waitFor's bound.
    const app = await openApp(t.alice, { refreshMs: 300 });
    await app.waitFor(/deploy prod .*● active/);
    t.clock.advance(31 * 86_400_000);
    await app.waitFor(/deploy prod .*○ expired/);
    await app.press('s');
    await app.waitFor('0 keys · status active');
  });

  it('cycles the status filter with s', async () => {
    const t = await withKeys();
    await t.alice.revokeKey(t.made['deploy prod']);
    const app = await openApp(t.alice);
    await app.waitFor('1/4 keys · status all');
    await app.press('s');
    let f = await app.waitFor('1/2 keys · status active');
    expect(f).not.toContain('one-off');
    await app.press('s');
    f = await app.waitFor('1/1 key · status expired');
    expect(f).toContain('one-off');
    await app.press('s');
    f = await app.waitFor('1/1 key · status revoked');
    expect(f).toContain('deploy prod');
    await app.press('s');
    await app.waitFor('1/4 keys · status all');
  });

  it('revokes the selected keys after a confirmation that counts active and skipped ones', async () => {
    const t = await withKeys();
    const app = await openApp(t.alice);
    await app.waitFor('1/4 keys');
    // one-off (expired), backup, deploy staging: three rows, each selected with space.
    await app.press(' ', ' ', ' ');
    await app.waitFor('3 selected keys');
    await app.press('r');
    const f = await app.waitFor('Revoke 3 keys?');
    expect(f).toContain('2 active keys will be revoked now');
    expect(f).toContain('1 key will be skipped: 1 expired');
    await app.press('n');
    await app.waitFor('3 selected keys');
    expect((await t.alice.getKey(t.made.backup)).status).toBe('active');
    await app.press('r');
    await app.waitFor('Revoke 3 keys?');
    await app.press('y');
    await app.waitFor('Revoked 2 keys; skipped 1: 1 not active.');
    expect((await t.alice.getKey(t.made.backup)).status).toBe('revoked');
    expect((await t.alice.getKey(t.made['deploy staging'])).status).toBe('revoked');
    expect((await t.alice.getKey(t.made['one-off'])).status).toBe('expired');
    expect((await t.alice.getKey(t.made['deploy prod'])).status).toBe('active');
    expect(app.frame()).not.toContain('selected');
  });

  it('revokes the key under the cursor when none is selected, and refuses a key that is not active', async () => {
    const t = await withKeys();
    const app = await openApp(t.alice);
    await app.waitFor('1/4 keys');
    await app.press('r');
    const f = await app.waitFor('Revoke this key?');
    expect(f).toContain('None of them is active');
    expect(f).toContain('esc  close');
    await app.press('y');
    expect(app.frame()).toContain('Revoke this key?');
    await app.press(KEY.esc);
    await app.press('j', 'r');
    await app.waitFor('1 active key will be revoked now');
    await app.press('y');
    await app.waitFor('Revoked 1 key.');
    expect((await t.alice.getKey(t.made.backup)).status).toBe('revoked');
  });

  it('selects every row on screen with a, and unselects them with a again', async () => {
    const t = await withKeys();
    const app = await openApp(t.alice);
    await app.waitFor('1/4 keys');
    await app.press('a');
    await app.waitFor('4 selected keys');
    await app.press('a');
    await app.waitFor((f) => !f.includes('selected'));
  });

  it('opens the details of a key and copies its id', async () => {
    const t = await withKeys();
    const app = await openApp(t.alice);
    await app.waitFor('1/4 keys');
    await app.press('j', KEY.enter);
    const f = await app.waitFor('created by');
    expect(f).toContain(t.made.backup);
    expect(f).toContain('● active');
    await app.press('c');
    expect(app.copied).toEqual([osc52(t.made.backup)]);
    await app.waitFor(`Key id copied via OSC 52 — if not, select: ${t.made.backup}`);
    await app.press(KEY.esc);
    await app.waitFor('2/4 keys');
  });

  it('shows the help of the screen from the same table the keys use', async () => {
    const t = await withKeys();
    const app = await openApp(t.alice);
    await app.waitFor('1/4 keys');
    await app.press('?');
    const f = await app.waitFor('Help: Keys');
    expect(f).toContain('Revoke the current or the selected keys');
    expect(f).toContain('Search by description, id or owner');
    expect(f).not.toContain('Generate a key');
    await app.press(KEY.esc);
    await app.press('5', '?');
    expect(await app.waitFor('Help: My keys')).toContain('Generate a key');
  });
});
