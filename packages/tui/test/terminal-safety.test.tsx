import { randomBytes } from 'node:crypto';
import type { ApiKey } from '@keyward/core';
import { cleanup } from 'ink-testing-library';
import stringWidth from 'string-width';
import { afterEach, describe, expect, it } from 'vitest';
import { KEY, openApp, readyTenant } from './harness.js';

afterEach(cleanup);

const HOSTILE = '\u001b[2J\u001b]0;pwned\u0007evil\u202edrow\u009b31m';

/** Colour parameters of every SGR sequence in the output (30–38, 40–48, 90–97, 100–107). */
function colours(output: string): string[] {
  const found: string[] = [];
  for (const m of output.matchAll(/\u001b\[([0-9;]*)m/g)) {
    for (const p of m[1].split(';')) {
      const n = Number(p);
      if ((n >= 30 && n <= 38) || (n >= 40 && n <= 48) || (n >= 90 && n <= 97) || (n >= 100 && n <= 107)) found.push(p);
    }
  }
  return found;
}

async function bulkKeys(count: number) {
  const t = await readyTenant();
  const base = Date.parse('2026-01-01T00:00:00Z');
  await t.store.transact((tx) => {
    for (let i = 0; i < count; i++) {
      const id = i.toString(16).padStart(24, '0');
      const created = new Date(base + i * 1000).toISOString();
      const key: ApiKey = { id, description: `bulk key ${String(i).padStart(5, '0')}`, owner: 'bob', createdBy: 'bob', created, lastUpdated: created, expiry: '2099-01-01T00:00:00.000Z', hash: randomBytes(32).toString('hex') };
      tx.putKey(key);
    }
  });
  return t;
}

describe('text from the store', () => {
  it('never reaches the terminal raw: escape sequences and control characters are shown inert', async () => {
    const t = await readyTenant();
    const k = await t.bob.generateKey({ description: 'placeholder' });
    // The engine refuses such text, so it is written straight into the store, as a tampered file would hold it.
    await t.store.transact(async (tx) => {
      const key = (await tx.getKey(k.id))!;
      const tenant = (await tx.tenant())!;
      tx.putKey({ ...key, description: HOSTILE });
      tx.putUser({ id: 'mal\u001b[31mlory', licence: false, roles: [], created: key.created });
      tx.putTenant({ ...tenant, name: 'Acme\u001b]0;owned\u0007', settings: { ...tenant.settings, maxKeyLifetime: 'P30D\u001b[5m' } });
    });
    const app = await openApp(t.alice, { columns: 120 });
    let f = await app.waitFor('evil');
    expect(f).toContain('␛[2J␛]0;pwned^Gevil\\u202edrow\\u009b31m');
    await app.press(KEY.enter);
    f = await app.waitFor('created by');
    expect(f).toContain('␛[2J␛]0;pwned^Gevil');
    expect(f).toContain('tenant Acme␛]0;owned^G');
    await app.press(KEY.esc, '4');
    await app.waitFor('mal␛[31mlory');
    await app.press('3');
    await app.waitFor('P30D␛[5m');
    // Editing starts from the inert text, which the engine's rule then refuses.
    await app.press('j', KEY.enter);
    await app.waitFor(/P30D␛\[5m\s*\n[\s\S]*\(INVALID_SETTING\)/);
    await app.press(KEY.esc);
    const raw = app.frames.join('');
    for (const bad of ['\u001b[2J', '\u001b]0;', '\u0007', '\u202e', '\u009b', 'mal\u001b[31m', '\u001b[5m']) expect(raw).not.toContain(bad);
  });
});

describe('colour', () => {
  it('is used, and NO_COLOR turns all of it off while statuses stay readable', async () => {
    const t = await readyTenant();
    await t.bob.generateKey({ description: 'coloured' });
    const coloured = await openApp(t.alice);
    await coloured.waitFor('● active');
    expect(colours(coloured.frames.join('')).length).toBeGreaterThan(0);
    coloured.unmount();

    const plainApp = await openApp(t.alice, { env: { NO_COLOR: '1' } });
    await plainApp.waitFor('● active');
    await plainApp.press('2');
    await plainApp.waitFor('events');
    await plainApp.press('5', 'n');
    await plainApp.waitFor('New key');
    expect(colours(plainApp.frames.join(''))).toEqual([]);
  });
});

describe('the screen', () => {
  it('fits 80×24 on every screen and dialog', async () => {
    const t = await readyTenant();
    await t.alice.updateSettings({ max_keys_per_user: 100 });
    for (let i = 0; i < 30; i++) await t.bob.generateKey({ description: `a rather long description for key number ${i} that goes on` });
    const app = await openApp(t.alice);
    await app.waitFor('1/30 keys');
    for (const keys of [[], [KEY.enter], [KEY.esc, 'r'], [KEY.esc, '2'], [KEY.enter], [KEY.esc, '3'], ['4'], ['5'], ['n'], [KEY.esc, '?']]) {
      await app.press(...keys);
      const lines = app.frame().split('\n');
      expect(lines.length).toBeLessThanOrEqual(23);
      for (const line of lines) expect(stringWidth(line)).toBeLessThanOrEqual(80);
    }
  });

  it('follows resizes, and says when the terminal is too small', async () => {
    const t = await readyTenant();
    const k = await t.bob.generateKey({ description: 'resized' });
    const app = await openApp(t.alice);
    let f = await app.waitFor('resized');
    expect(f).not.toContain(k.id);
    app.resize(140, 40);
    f = await app.waitFor(k.id);
    expect(f.split('\n').length).toBeLessThanOrEqual(39);
    app.resize(50, 10);
    await app.waitFor('needs at least');
    app.resize(80, 24);
    await app.waitFor('resized');
  });

  it('renders only the visible window of a long list, and moves through it', async () => {
    const t = await bulkKeys(20_000);
    const app = await openApp(t.alice);
    let f = await app.waitFor('1/20,000 keys');
    const rows = (s: string) => s.split('\n').filter((l) => l.includes('bulk key'));
    expect(rows(f)).toHaveLength(17);
    expect(rows(f)[0]).toContain('bulk key 19999');
    await app.press('G');
    f = await app.waitFor((s) => s.includes('20,000/20,000 keys') && /›\s+bulk key 00000/.test(s));
    expect(rows(f)).toHaveLength(17);
    expect(rows(f).at(-1)).toMatch(/^›\s+bulk key 00000/);
    await app.press(KEY.pageUp);
    f = await app.waitFor((s) => s.includes('19,983/20,000 keys') && /›\s+bulk key 00017/.test(s));
    await app.press('g', KEY.pageDown);
    f = await app.waitFor((s) => s.includes('18/20,000 keys') && /›\s+bulk key 19982/.test(s));
    expect(rows(f)[0]).toMatch(/^›\s+bulk key 19982/);
    await app.press('/');
    await app.type('12345');
    f = await app.waitFor((s) => s.includes('1 match') && rows(s).length === 1);
    expect(rows(f)[0]).toMatch(/^›\s+bulk key 12345/);
  });
});
