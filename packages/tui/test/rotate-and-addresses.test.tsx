// Issue 11 in the terminal UI: `R` rotates a key on My keys (new token shown
// once, old token cut to the overlap), and key details say where a key was
// last used from — all on a real engine.

import { cleanup } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import { osc52 } from '../src/ui/clipboard.js';
import { KEY, TOKEN, losingTheAnswers, openApp, readyTenant } from './harness.js';

afterEach(cleanup);

const HOUR = 3_600_000;

describe('Rotating on My keys', () => {
  it('R asks for the overlap (PT1H), shows the new token once, lists both keys and cuts the old one', async () => {
    const t = await readyTenant();
    const old = await t.bob.generateKey({ description: 'ci deploy', expiry: 'P30D' });
    const app = await openApp(t.bob);
    await app.waitFor('1/1 key');
    await app.press('?');
    await app.waitFor('Rotate the key');
    await app.press(KEY.esc);
    await app.waitFor('1/1 key');

    await app.press('R');
    const asked = await app.waitFor('Rotate "ci deploy"?');
    expect(asked).toContain('Overlap PT1H');
    const before = Date.now();
    await app.press(KEY.enter);
    const shown = await app.waitFor(TOKEN);
    const token = TOKEN.exec(shown)![0];
    expect(token).not.toBe(old.token);
    expect(shown).toContain("The rotated key's new token");
    expect(shown).toMatch(/old token\s+works until .*\(in 1h\), then is refused/);

    // The new token is the rotated key's, and both tokens work during the overlap.
    const verified = await t.bob.verifyToken(token);
    expect(verified.valid && verified.key.rotatedFrom).toBe(old.id);
    expect((await t.bob.verifyToken(old.token)).valid).toBe(true);
    const oldNow = await t.bob.getKey(old.id);
    expect(Date.parse(oldNow.expiry)).toBeGreaterThanOrEqual(before + HOUR - 1000);
    expect(Date.parse(oldNow.expiry)).toBeLessThanOrEqual(Date.now() + HOUR);
    expect(Date.parse(oldNow.expiry)).toBeLessThan(Date.parse(old.expiry));

    await app.press('c');
    expect(app.copied.join('')).toContain(osc52(token));
    await app.waitFor('Token copied via OSC 52');

    await app.press(KEY.esc);
    const after = await app.waitFor('1/2 keys');
    expect(after.match(/ci deploy/g)).toHaveLength(2);
    expect(after).not.toMatch(TOKEN);
  });

  it('takes PT0S (the old token stops at once) and shows a refusal with its code', async () => {
    const t = await readyTenant();
    const old = await t.bob.generateKey({ description: 'laptop' });
    const app = await openApp(t.bob);
    await app.waitFor('1/1 key');
    await app.press('R');
    await app.waitFor('Overlap PT1H');
    await app.press(KEY.ctrlU);
    await app.type('soon');
    await app.press(KEY.enter);
    await app.waitFor('(INVALID_INPUT)');
    expect((await t.bob.listKeys()).total).toBe(1);

    await app.press(KEY.ctrlU);
    await app.type('PT0S');
    await app.press(KEY.enter);
    await app.waitFor(TOKEN);
    expect((await t.bob.verifyToken(old.token)).valid).toBe(false);
    await app.press(KEY.esc);
    await app.waitFor('1/2 keys');

    // The old key is rotated already: rotating it again is refused with core's text and code.
    const rows = await t.bob.listKeys();
    const oldRow = rows.data.findIndex((k) => k.id === old.id);
    for (let i = 0; i < oldRow; i++) await app.press('j');
    await app.press('R');
    await app.waitFor('Overlap PT1H');
    await app.press(KEY.enter);
    await app.waitFor('(KEY_NOT_ACTIVE)');
    expect((await t.bob.listKeys()).total).toBe(2);
  });

  it('a rotate whose answer the store lost shows the code and reloads the list, where the rotated key is', async () => {
    const t = await readyTenant();
    await t.bob.generateKey({ description: 'ci deploy', expiry: 'P30D' });
    // The store commits the rotate, then its answer is lost (as a PostgreSQL connection cut once its COMMIT went out).
    losingTheAnswers(t.store);
    const app = await openApp(t.bob);
    await app.waitFor('1/1 key');
    await app.press('R');
    await app.waitFor('Overlap PT1H');
    await app.press(KEY.enter);
    await app.waitFor('(OUTCOME_UNKNOWN)');
    await app.press(KEY.esc);
    // The list behind the dialog was read again: both keys, the new one and the old one (for the overlap).
    await app.waitFor((f) => f.split('\n').filter((line) => line.includes('ci deploy')).length === 2);
    expect((await t.bob.listKeys()).total).toBe(2);
  });
});

describe('Key details', () => {
  it('show the addresses a key was last used from, inert, and what it was rotated to', async () => {
    const t = await readyTenant();
    const key = await t.bob.generateKey({ description: 'service' });
    for (const address of ['203.0.113.7', '2001:db8::1', '198.51.100.2']) expect((await t.bob.verifyToken(key.token, address)).valid).toBe(true);
    // The engine's own verify (what the HTTP server calls) takes whatever address it is given: shown inert.
    await t.engine.verify(key.token, '10.0.0.9\u001b[2J');
    await t.bob.rotateKey(key.id, 'PT1H');
    const app = await openApp(t.bob);
    await app.waitFor('1/2 keys');
    const rows = await t.bob.listKeys();
    for (let i = 0; i < rows.data.findIndex((k) => k.id === key.id); i++) await app.press('j');
    await app.press(KEY.enter);
    const f = await app.waitFor('last used from');
    expect(f).toMatch(/last used from\s+10\.0\.0\.9␛\[2J\s+(now|\d+s ago)/);
    expect(f).toMatch(/\s198\.51\.100\.2\s+(now|\d+s ago)/);
    expect(f).toMatch(/\s2001:db8::1\s+(now|\d+s ago)/);
    expect(f).toMatch(/\s203\.0\.113\.7\s+(now|\d+s ago)/);
    expect(f.indexOf('198.51.100.2')).toBeLessThan(f.indexOf('203.0.113.7'));
    const newer = rows.data.find((k) => k.id !== key.id)!;
    expect(f).toContain(`rotated to      ${newer.id}`);
  });
});
