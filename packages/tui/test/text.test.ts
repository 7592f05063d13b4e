import type { Key } from 'ink';
import { describe, expect, it } from 'vitest';
import { toKeyPress } from '../src/ui/keys/keypress.js';
import { editText, textField } from '../src/ui/state/text-field.js';
import { fit, truncate, widthOf } from '../src/ui/text/fit.js';
import { relative } from '../src/ui/text/format.js';

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

  it('never take control characters, even pasted', () => {
    const pasted = toKeyPress('ci\u001b[2J deploy\u0007\r\nnext\u202e', key());
    expect(editText(textField(), pasted)).toEqual({ value: 'ci[2J deploy next', cursor: 17 });
  });

  it('stop at their maximum length', () => {
    expect(editText(textField('abc'), toKeyPress('defgh', key()), 5)).toEqual({ value: 'abcde', cursor: 5 });
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
    expect(toKeyPress('deploy', key()).name).toBe('');
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

  it('say how long ago or how soon', () => {
    const now = Date.parse('2026-01-10T00:00:00Z');
    expect(relative('2026-02-09T00:00:00Z', now)).toBe('in 30d');
    expect(relative('2026-01-09T21:00:00Z', now)).toBe('3h ago');
    expect(relative(undefined, now)).toBe('never');
    expect(relative('not a time', now)).toBe('?');
  });
});
