// The one cache shape behind GET /users/me's text and a key list's rows
// (wire/kept-texts.ts): a text is made again exactly when what it was made of
// changed, a hit keeps what it was compared with, and the cache is bounded.
import { describe, expect, it } from 'vitest';
import { KeyTexts } from '../src/wire/key-texts.js';
import { KeptTexts } from '../src/wire/kept-texts.js';
import { T0, key, tenant, user } from './conformance/records.js';

interface Of {
  name: string;
}

function counted(max = 10, keep?: (now: Of) => Of) {
  const compared: Of[] = [];
  let made = 0;
  const texts = new KeptTexts<Of>(max, (kept, now) => (compared.push(kept), kept.name === now.name), undefined, keep);
  const text = (id: string, now: Of) => texts.text(id, now, () => `${id}:${now.name}:${++made}`);
  return { text, compared, made: () => made };
}

describe('kept texts', () => {
  it('are made again only when what they are made of changed, per id', () => {
    const c = counted();
    expect(c.text('a', { name: 'x' })).toBe('a:x:1');
    expect(c.text('a', { name: 'x' })).toBe('a:x:1');
    expect(c.text('b', { name: 'x' })).toBe('b:x:2');
    expect(c.text('a', { name: 'y' })).toBe('a:y:3');
    expect(c.text('a', { name: 'y' })).toBe('a:y:3');
    expect(c.made()).toBe(3);
  });

  it('keep on a hit what they were compared with (so identity settles the next compare), and what keep makes of a new one', () => {
    const c = counted(10, (now) => ({ ...now }));
    const first = { name: 'x' };
    c.text('a', first);
    expect(c.compared).toEqual([]);
    const second = { name: 'x' };
    c.text('a', second);
    expect(c.compared[0]).not.toBe(first); // the copy keep made
    c.text('a', { name: 'x' });
    expect(c.compared[1]).toBe(second); // adopted on the hit
  });

  it('start over beyond their bound', () => {
    const c = counted(2);
    c.text('a', { name: 'x' });
    c.text('b', { name: 'x' });
    c.text('c', { name: 'x' }); // the third id: the first two are dropped
    expect(c.text('a', { name: 'x' })).toBe('a:x:4');
    expect(c.made()).toBe(4);
  });

  it('keep a text per id and viewer, bounded by the texts of all viewers', () => {
    let made = 0;
    const texts = new KeptTexts<Of>(3, (kept, now) => kept.name === now.name);
    const text = (id: string, viewer: string) => texts.text(id, { name: 'x' }, () => `${id}:${viewer}:${++made}`, viewer);
    expect(text('k', 'alice')).toBe('k:alice:1');
    expect(text('k', 'bob')).toBe('k:bob:2');
    expect(text('k', 'alice')).toBe('k:alice:1');
    expect(text('k', 'bob')).toBe('k:bob:2');
    expect(text('j', 'alice')).toBe('j:alice:3');
    expect(text('j', 'bob')).toBe('j:bob:4'); // the fourth text: the three before are dropped
    expect(text('k', 'alice')).toBe('k:alice:5');
    expect(text('j', 'bob')).toBe('j:bob:4');
  });

  it("a key's text is made again when its last use, handed in before, was changed in place", () => {
    const texts = new KeyTexts();
    const k = key(1, { owner: 'bob', expiry: new Date(T0 + 86_400_000).toISOString() });
    const viewer = { actor: user('alice', true), tenant: tenant(), now: T0 };
    const use = { lastUsed: T0, lastUsedFrom: [{ address: '10.0.0.1', lastSeen: T0 }] };
    let made = 0;
    const viewOf = () => ({ made: ++made }) as never;
    texts.text(k, viewer, use, viewOf);
    use.lastUsed = T0 + 1000;
    use.lastUsedFrom[0].lastSeen = T0 + 1000;
    texts.text(k, viewer, use, viewOf);
    expect(made).toBe(2);
    texts.text(k, viewer, use, viewOf);
    expect(made).toBe(2);
  });
});
