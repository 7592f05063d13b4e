// Values a JSON body can carry that String() cannot print ({"toString": 1}):
// found by the HTTP fuzz as a 500 from POST /api/v1/api-keys/revoke. Each is
// refused with its code, never thrown as a TypeError.
import { describe, expect, it } from 'vitest';
import { createJsonFileStore, initStore, textOf } from '../src/index.js';
import { refusal, seededStore, tempStorePath } from './helpers.js';

const hostile = [{ toString: 1 }, { toString: 'x', valueOf: null }, JSON.parse('{"toString":{}}')];


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
      expect(await refusal(alice.getKey(v))).toBe('KEY_NOT_FOUND');
      expect(await refusal(alice.revokeKey(v))).toBe('KEY_NOT_FOUND');
      expect(await refusal(alice.addUser(v))).toBe('INVALID_INPUT');
      expect(await refusal(alice.updateUser(v, { licence: true }))).toBe('USER_NOT_FOUND');
      expect(await refusal(alice.listKeys({ sub: v }))).toBe('USER_NOT_FOUND');
      expect(await refusal(alice.generateKey({ description: 'x', sub: v }))).toBe('INVALID_INPUT');
      for (const field of ['max_keys_per_user', 'max_api_key_expiry', 'excessive_use_per_minute'] as const) {
        expect(await refusal(alice.updateSettings({ [field]: v }))).toBe('INVALID_SETTING');
      }
    }
  });
});

describe('invisible and reordering text', () => {
  it('is refused wherever text is stored, and nothing is written', async () => {
    const { alice, engine } = await seededStore();
    const before = (await alice.listKeys({})).total;
    const events = (await alice.listEvents({ limit: 100 })).data.length;
    expect(await refusal(alice.generateKey({ description: 'ab\u200bcd' }))).toBe('INVALID_INPUT');
    const key = await alice.generateKey({ description: 'abcd' });
    expect(await refusal(alice.renameKey(key.id, 'ab\ufeffcd'))).toBe('INVALID_INPUT');
    expect(await refusal(alice.addUser('ab\u200bcd'))).toBe('INVALID_INPUT');
    expect((await alice.getKey(key.id)).description).toBe('abcd');
    expect((await alice.listKeys({})).total).toBe(before + 1);
    expect((await alice.listEvents({ limit: 100 })).data.length).toBe(events + 1);
    await engine.close();
  });

  it('is refused as a tenant name before a store is created (it was accepted with a right-to-left override)', async () => {
    for (const tenant of ['acme\u202eevil', 'ac\u200bme', '\u2066acme']) {
      const store = createJsonFileStore(tempStorePath());
      expect(await refusal(initStore(store, { admin: 'alice', tenant }))).toBe('INVALID_INPUT');
      expect(await store.tenant()).toBeUndefined();
      await store.close();
    }
  });
});
