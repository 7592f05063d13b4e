// Values a JSON body can carry that String() cannot print ({"toString": 1}):
// found by the HTTP fuzz as a 500 from POST /api/v1/api-keys/revoke. Each is
// refused with its code, never thrown as a TypeError.
import { describe, expect, it } from 'vitest';
import { KeywardError, textOf } from '../src/index.js';
import { seededStore } from './helpers.js';

const hostile = [{ toString: 1 }, { toString: 'x', valueOf: null }, JSON.parse('{"toString":{}}')];

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    if (e instanceof KeywardError) return e.code;
    throw e;
  }
}

describe('hostile values from a JSON body', () => {
  it('are printed safely', () => {
    for (const v of hostile) expect(() => String(v)).toThrow(TypeError);
    for (const v of hostile) expect(textOf(v)).toBe('[object Object]');
    expect(textOf('x')).toBe('x');
    expect(textOf(5)).toBe('5');
  });

  it('are refused with their codes by every use case that takes them', async () => {
    const { alice } = await seededStore();
    for (const v of hostile as never[]) {
      const report = await alice.revokeKeys([v]);
      expect(report.skipped).toEqual([{ id: '[object Object]', code: 'KEY_NOT_FOUND', message: 'No such key.' }]);
      expect(await codeOf(alice.getKey(v))).toBe('KEY_NOT_FOUND');
      expect(await codeOf(alice.revokeKey(v))).toBe('KEY_NOT_FOUND');
      expect(await codeOf(alice.addUser(v))).toBe('INVALID_INPUT');
      expect(await codeOf(alice.updateUser(v, { licence: true }))).toBe('USER_NOT_FOUND');
      expect(await codeOf(alice.listKeys({ sub: v }))).toBe('USER_NOT_FOUND');
      expect(await codeOf(alice.generateKey({ description: 'x', sub: v }))).toBe('INVALID_INPUT');
      for (const field of ['max_keys_per_user', 'max_api_key_expiry', 'excessive_use_per_minute'] as const) {
        expect(await codeOf(alice.updateSettings({ [field]: v }))).toBe('INVALID_SETTING');
      }
    }
  });
});
