import type { Key } from 'ink';
import { describe, expect, it } from 'vitest';
import { type KeyPress, printableText, readInput } from '../src/ui/keys/keypress.js';
import { editText, textField } from '../src/ui/state/text-field.js';
import { fit, truncate, widthOf } from '../src/ui/text/fit.js';
import { type KeyView, relativeTime } from '@keyward/core';
import { keyColumns } from '../src/ui/components/key-columns.js';
import { themeFor } from '../src/ui/theme.js';

/** The one key an input stands for. */
function toKeyPress(input: string, k: Key): KeyPress {
  const e = readInput(input, k);
  if (e.kind !== 'keys' || e.keys.length !== 1) throw new Error(`not one key: ${JSON.stringify(e)}`);
  return e.keys[0];
}

const key = (k: Partial<Key> = {}): Key =>
  ({ upArrow: false, downArrow: false, leftArrow: false, rightArrow: false, pageDown: false, pageUp: false, home: false, end: false, return: false, escape: false, ctrl: false, shift: false, tab: false, backspace: false, delete: false, meta: false, super: false, hyper: false, capsLock: false, numLock: false, ...k }) as Key;

describe('text fields', () => {
  it('insert at the cursor, delete before it and move', () => {
    let f = textField('kw');
    f = editText(f, toKeyPress('y', key()))!;
    expect(f).toEqual({ value: 'kwy', cursor: 3 });
    f = editText(f, toKeyPress('', key({ leftArrow: true })))!;
    f = editText(f, toKeyPress('', key({ leftArrow: true })))!;
    f = editText(f, toKeyPress('_', key()))!;
    expect(f).toEqual({ value: 'k_wy', cursor: 2 });
    f = editText(f, toKeyPress('', key({ delete: true })))!;
    expect(f).toEqual({ value: 'kwy', cursor: 1 });
    expect(editText(f, toKeyPress('u', key({ ctrl: true })))).toEqual({ value: '', cursor: 0 });
  });

  it('stop at their maximum length', () => {
    expect(editText(textField('abc'), { name: '', text: 'defgh' }, 5)).toEqual({ value: 'abcde', cursor: 5 });
  });
});

describe('keys', () => {
  it('name what the terminal sent the way the binding table writes it', () => {
    expect(toKeyPress('j', key()).name).toBe('j');
    expect(toKeyPress('G', key({ shift: true })).name).toBe('G');
    expect(toKeyPress(' ', key()).name).toBe('space');
    expect(toKeyPress('\r', key({ return: true })).name).toBe('enter');
    expect(toKeyPress('\n', key()).name).toBe('enter');
    expect(toKeyPress('', key({ escape: true, meta: true })).name).toBe('esc');
    expect(toKeyPress('c', key({ ctrl: true })).name).toBe('ctrl+c');
    expect(toKeyPress('', key({ pageDown: true })).name).toBe('pagedown');
  });

  it('split keys that arrived in one read, as typing over SSH does', () => {
    const names = (input: string, k = key()) => {
      const e = readInput(input, k);
      return e.kind === 'keys' ? e.keys.map((x) => x.name) : e.kind;
    };
    expect(names('5n')).toEqual(['5', 'n']);
    expect(names('y\r')).toEqual(['y', 'enter']);
    expect(names('j\u0003')).toEqual(['j', 'ctrl+c']);
    expect(names('ab\u007f')).toEqual(['a', 'b', 'backspace']);
    expect(names('o', key({ meta: true }))).toEqual(['esc', 'o']);
    expect(names('鍵🙂')).toEqual(['鍵', '🙂']);
    expect(names('\u202e')).toEqual(['']);
    expect(names('[200~')).toBe('pasteStart');
    expect(names('[201~')).toBe('pasteEnd');
  });

  it('printable text drops control characters and makes line breaks spaces', () => {
    expect(printableText('ci\u001b[2J deploy\u0007\r\nnext\u202e')).toBe('ci[2J deploy next');
  });
});

describe('cells', () => {
  it('are cut and padded in terminal columns, wide characters counted twice', () => {
    expect(fit('deploy', 8)).toBe('deploy  ');
    expect(fit('a very long description', 8)).toBe('a very …');
    expect(fit('鍵鍵鍵鍵鍵', 7)).toBe('鍵鍵鍵…');
    const wide = fit('鍵鍵鍵鍵鍵', 8);
    expect(widthOf(wide)).toBe(8);
    expect(wide).toBe('鍵鍵鍵… ');
    expect(fit('5', 4, 'right')).toBe('   5');
    expect(truncate('abc', 0)).toBe('');
  });

  // The command line's keys table says the same (packages/cli/test/format.test.ts): both are core's relativeTime.
  it('say how long ago or how soon as core does', () => {
    const now = Date.now();
    const key: KeyView = {
      id: 'a'.repeat(24),
      tenantId: 't',
      description: 'CI',
      sub: 'bob',
      subType: 'user',
      status: 'active',
      created: new Date(now - 86_400_000).toISOString(),
      createdByUser: 'bob',
      lastUpdated: new Date(now - 86_400_000).toISOString(),
      expiry: new Date(now + 30 * 86_400_000 - 1000).toISOString(),
      lastUsed: new Date(now - 3 * 3_600_000).toISOString(),
      actions: { rename: true, delete: true, revoke: false, rotate: true },
    };
    const cells = Object.fromEntries(keyColumns(themeFor({ NO_COLOR: '1' }), now, 80, { owner: true }).map((c) => [c.title, c.cell(key)]));
    expect(cells.EXPIRES).toBe('in 30d');
    expect(cells['LAST USED']).toBe('3h ago');
    expect(relativeTime(key.expiry, now)).toBe('in 30d');
  });
});
