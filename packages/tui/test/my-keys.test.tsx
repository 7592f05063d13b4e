import { cleanup } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import { osc52 } from '../src/ui/clipboard.js';
import { KEY, TOKEN, losingTheAnswers, openApp, readyTenant, readyTenantWithKeys, tenant } from './harness.js';

afterEach(cleanup);

/** Bob's keys one, two and three, made in that order: "three" is first in his list. */
const bobWithThreeKeys = () => readyTenantWithKeys(['one', 'two', 'three'].map((description) => ({ who: 'bob' as const, description })));

/** Bob's list open, and his first key ("three") renamed "3rd": the app as the answer comes. */
async function renamingThreeTo3rd(t: Awaited<ReturnType<typeof bobWithThreeKeys>>) {
  const app = await openApp(t.bob);
  await app.waitFor('1/3 keys');
  await app.press('e');
  await app.waitFor('Rename "three"');
  await app.press(KEY.ctrlU);
  await app.type('3rd');
  await app.press(KEY.enter);
  return app;
}

describe('My keys', () => {
  it('is all a developer sees', async () => {
    const t = await readyTenant();
    await t.bob.generateKey({ description: 'laptop' });
    const app = await openApp(t.bob);
    const f = await app.waitFor('laptop');
    expect(f).toContain('5 My keys');
    expect(f).not.toContain('1 Keys');
    expect(f).not.toContain('Events');
    await app.press('1');
    await app.waitFor('are for tenant admins');
    expect(app.frame()).toContain('My keys  1/1 key');
  });

  it('says why generating is impossible before one tries, and notices when that changes', async () => {
    const t = await tenant();
    await t.alice.addUser('bob', { licence: true });
    await t.alice.updateUser('bob', { developer: true });
    const app = await openApp(t.engine.as('bob'), { refreshMs: 50 });
    await app.waitFor('API keys are disabled for this tenant');
    expect(app.frame()).toContain('(API_KEYS_DISABLED)');
    await app.press('n');
    // Said with what fixes it; a developer cannot fix this one, so there is nothing to confirm.
    const f = await app.waitFor('You cannot generate a key yet');
    expect(f).toContain('Ask a tenant admin to enable API keys.');
    expect(f).toContain('esc  close');
    expect(f).not.toContain('New key');
    await app.press(KEY.esc);
    // Another process (here: the admin's own session) turns keys on.
    await t.alice.updateSettings({ api_keys_enabled: true });
    await app.waitFor((f) => !f.includes('You cannot generate keys now') && f.includes('press n to generate one'));
    await app.press('n');
    await app.waitFor('New key — 1 of 2');
  });

  it('generates a key, shows the token once, copies it through OSC 52 and forgets it on close', async () => {
    const t = await readyTenant();
    const app = await openApp(t.bob);
    await app.press('n');
    await app.waitFor('New key — 1 of 2');
    await app.type('ci deploy');
    await app.press(KEY.enter);
    await app.waitFor('30 days (the tenant maximum)');
    await app.press(KEY.enter);
    const shown = await app.waitFor(TOKEN);
    const token = TOKEN.exec(shown)![0];
    const verified = await t.bob.verifyToken(token);
    expect(verified.valid && verified.key.description).toBe('ci deploy');

    await app.press('c');
    expect(app.copied.join('')).toContain(osc52(token));
    await app.waitFor('Token copied via OSC 52 — if not, select it on screen');

    await app.press(KEY.esc);
    const after = await app.waitFor('1/1 key');
    expect(after).toContain('ci deploy');
    expect(after).not.toMatch(TOKEN);
    expect(app.frames.slice(-1)[0]).not.toContain(token);
  });

  it('takes a bracketed paste as text, and keys typed in one read one by one', async () => {
    const t = await readyTenant();
    const app = await openApp(t.bob);
    // "n" and the first letters arrive together, as they can over SSH.
    app.stdin.write('nci');
    await app.waitFor('Description ci');
    app.stdin.write('\u001b[200~ deploy\u0007\r\nprod\u001b[201~');
    await app.waitFor('Description ci deploy prod');
    app.stdin.write('\r\r');
    const f = await app.waitFor(TOKEN);
    expect(f).toContain('ci deploy prod');
  });

  it('checks a typed lifetime as it is typed, with the codes of behaviour §5', async () => {
    const t = await readyTenant();
    await t.alice.updateSettings({ max_api_key_expiry: 'P7D' });
    const app = await openApp(t.bob);
    await app.press('n');
    await app.type('short lived');
    await app.press(KEY.enter);
    await app.waitFor('7 days (the tenant maximum)');
    expect(app.frame()).not.toContain('30 days');
    await app.press('j', KEY.enter);
    await app.waitFor('Lifetime');
    await app.type('30d');
    await app.waitFor('(EXPIRY_TOO_LONG)');
    await app.press(KEY.enter);
    expect(app.frame()).toContain('EXPIRY_TOO_LONG');
    expect((await t.bob.listKeys()).total).toBe(0);
    await app.press(KEY.backspace, KEY.backspace, KEY.backspace);
    await app.type('soon');
    await app.waitFor('(INVALID_EXPIRY)');
    await app.press(KEY.ctrlU);
    await app.type('2d');
    await app.waitFor((f) => !f.includes('INVALID_EXPIRY') && !f.includes('EXPIRY_TOO_LONG'));
    await app.press(KEY.enter);
    await app.waitFor(TOKEN);
    const key = (await t.bob.listKeys()).data[0];
    const lifetime = Date.parse(key.expiry) - Date.parse(key.created);
    expect(lifetime).toBe(2 * 86_400_000);
  });

  it('shows the refusal and its code when the engine says no', async () => {
    const t = await readyTenant();
    await t.alice.updateSettings({ max_keys_per_user: 1 });
    await t.bob.generateKey({ description: 'first' });
    const app = await openApp(t.bob, { refreshMs: 50 });
    await app.waitFor('(KEY_LIMIT_REACHED)');
    await t.alice.updateSettings({ max_keys_per_user: 5 });
    await app.waitFor((f) => !f.includes('KEY_LIMIT_REACHED'));
    await app.press('n');
    await app.type('second');
    await app.press(KEY.enter);
    await app.waitFor('the tenant maximum');
    // The limit goes down again while the dialog is open: the engine has the last word.
    await t.alice.updateSettings({ max_keys_per_user: 1 });
    await app.press(KEY.enter);
    await app.waitFor('The key was not generated');
    expect(app.frame()).toContain('(KEY_LIMIT_REACHED)');
    expect((await t.bob.listKeys()).total).toBe(1);
  });

  it('a create whose answer the store lost says the key may have been made, offers no "try again", and shows the list', async () => {
    const t = await readyTenant();
    // The store commits the key, then its answer is lost (as a PostgreSQL connection cut once its COMMIT went out).
    losingTheAnswers(t.store, 'The store stopped answering after the new key was sent to it, so whether it was made is not known; list your keys before making it again.');
    const app = await openApp(t.bob);
    await app.waitFor('My keys');
    await app.press('n');
    await app.type('lost answer');
    await app.press(KEY.enter);
    await app.waitFor('the tenant maximum');
    await app.press(KEY.enter);
    const f = await app.waitFor('The key may have been made');
    expect(f).toContain('(OUTCOME_UNKNOWN)');
    expect(f).not.toContain('try again');
    await app.press(KEY.esc);
    await app.waitFor('lost answer');
    expect((await t.bob.listKeys()).total).toBe(1);
  });

  it('renames, deletes one key, and deletes all after typing DELETE', async () => {
    const t = await bobWithThreeKeys();
    const app = await renamingThreeTo3rd(t);
    await app.waitFor('Renamed to "3rd".');
    await app.press('d');
    await app.waitFor('Delete this key?');
    await app.press('y');
    await app.waitFor('Deleted "3rd".');
    await app.waitFor('1/2 keys');
    await app.press('D');
    await app.waitFor('Delete all 2 keys of yours?');
    await app.type('delete');
    await app.press(KEY.enter);
    expect(app.frame()).toContain('Type DELETE in capitals');
    expect((await t.bob.listKeys()).total).toBe(2);
    await app.press(KEY.ctrlU);
    await app.type('DELETE');
    await app.press(KEY.enter);
    await app.waitFor('Deleted 2 keys.');
    expect((await t.bob.listKeys()).total).toBe(0);
  });

  it('a rename, a delete or a delete-all whose answer the store lost shows the code and reloads the list, where it was done', async () => {
    const t = await bobWithThreeKeys();
    // The store commits each change, then its answer is lost (as a PostgreSQL connection cut once its COMMIT went out).
    losingTheAnswers(t.store);
    const app = await renamingThreeTo3rd(t);
    await app.waitFor('(OUTCOME_UNKNOWN)');
    await app.press(KEY.esc);
    await app.waitFor((f) => f.includes('3rd') && !f.includes('Rename'));
    await app.press('d');
    await app.waitFor('Delete this key?');
    await app.press('y');
    const f = await app.waitFor((f) => f.includes('(OUTCOME_UNKNOWN)') && f.includes('1/2 keys'));
    expect(f).not.toContain('3rd');
    await app.press('D');
    await app.waitFor('Delete all 2 keys of yours?');
    await app.type('DELETE');
    await app.press(KEY.enter);
    await app.waitFor('(OUTCOME_UNKNOWN)');
    await app.press(KEY.esc);
    await app.waitFor('You have no keys yet');
    expect((await t.bob.listKeys()).total).toBe(0);
  });

  it('highlights keys that expire within 7 days', async () => {
    const t = await readyTenant();
    await t.bob.generateKey({ description: 'soon gone', expiry: 'P3D' });
    await t.bob.generateKey({ description: 'lasting', expiry: 'P20D' });
    const app = await openApp(t.bob);
    const f = await app.waitFor('soon gone');
    expect(f).toContain('1 expiring within 7 days');
    expect(f).toMatch(/soon gone.*in 2d ⚠|soon gone.*in 3d ⚠/);
    expect(f).not.toMatch(/lasting.*⚠/);
  });
});
