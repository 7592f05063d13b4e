import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TOKEN_IN_TEXT, hashToken, isWellFormedToken, newKeyId, newToken, parseToken, redactToken, tokenMatches } from '../src/index.js';
import { everyFileText, seededStore } from './helpers.js';

describe('token format', () => {
  it('carries the prefix, the key id, 160 random bits and a checksum', () => {
    const id = newKeyId();
    const t = newToken(id);
    expect(t).toMatch(/^kw_[0-9a-f]{24}_[a-z2-7]{32}[0-9a-f]{8}$/);
    expect(parseToken(t)).toEqual({ ok: true, keyId: id });
    expect(newToken(id)).not.toBe(t);
    expect(redactToken(t)).toBe(`kw_${id}_…`);
    expect(t.match(TOKEN_IN_TEXT)).toEqual([t]);
  });

  it('rejects every single-character change by shape or checksum, without a lookup', () => {
    const t = newToken(newKeyId());
    const alphabet = 'abcdefghijklmnopqrstuvwxyz234567890_';
    let rejected = 0;
    for (let i = 0; i < t.length; i++) {
      for (const c of alphabet) {
        if (c === t[i]) continue;
        const tampered = t.slice(0, i) + c + t.slice(i + 1);
        expect(parseToken(tampered).ok).toBe(false);
        rejected++;
      }
    }
    expect(rejected).toBeGreaterThan(2000);
  });

  it('rejects a fuzzed corpus of malformed tokens', () => {
    const t = newToken(newKeyId());
    const corpus: unknown[] = [
      '', ' ', 'kw_', t.slice(0, -1), t + 'a', ' ' + t, t + '\n', t.toUpperCase(), t.replace('kw_', 'KW_'), t.replace('kw_', 'gh_'),
      t.replace('_', '-'), 'Bearer ' + t, null, undefined, 42, {}, [t], 'kw_' + 'g'.repeat(24) + '_' + 'a'.repeat(40), '\u0000'.repeat(68), '𝓴'.repeat(34),
    ];
    // Random strings of the right length and alphabet almost never carry a valid checksum.
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 2000; i++) {
      const chars = 'abcdef0123456789';
      const id = Array.from({ length: 24 }, () => chars[Math.floor(rnd() * 16)]).join('');
      const secret = Array.from({ length: 32 }, () => 'abcdefghijklmnopqrstuvwxyz234567'[Math.floor(rnd() * 32)]).join('');
      const crc = Array.from({ length: 8 }, () => chars[Math.floor(rnd() * 16)]).join('');
      corpus.push(`kw_${id}_${secret}${crc}`);
    }
    for (const c of corpus) expect(parseToken(c).ok, String(c)).toBe(false);
    expect(isWellFormedToken(t)).toBe(true);
  });

  it('compares hashes, not text', () => {
    const t = newToken(newKeyId());
    expect(tokenMatches(t, hashToken(t))).toBe(true);
    expect(tokenMatches(t, hashToken(newToken(newKeyId())))).toBe(false);
    expect(tokenMatches(t, 'zz')).toBe(false);
  });
});

describe('tokens never reach the store', () => {
  it('leaves no token text in any file of the store after generating, using and failing', async () => {
    const { store, engine, alice, bob } = await seededStore();
    const tokens: string[] = [];
    for (let i = 0; i < 10; i++) tokens.push((await (i % 2 ? alice : bob).generateKey({ description: `k${i}` })).token);
    for (const t of tokens) expect((await engine.verify(t)).valid).toBe(true);
    await engine.verify(tokens[0].slice(0, -1) + 'x');
    await engine.flush();
    const dir = dirname(store.location);
    const files = everyFileText(dir);
    expect(files.length).toBeGreaterThanOrEqual(2);
    for (const { text } of files) {
      for (const t of tokens) {
        expect(text).not.toContain(t);
        expect(text).not.toContain(t.slice(28, 60)); // the secret alone
      }
    }
  });
});
