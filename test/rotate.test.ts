// `keyward keys rotate` on a local store: the new token printed once, both
// tokens working during the overlap, only the new one after, and the reuse
// of the old one recorded as an event.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { codeOf, keyward, tempDir } from './support/keyward.js';
import { bootstrap } from './support/flow.js';

describe('keyward keys rotate', () => {
  it('rotates with an overlap, then refuses the old token and records its reuse', async () => {
    const store = join(tempDir(), 'keyward.json');
    const { alice, bob } = bootstrap(store);
    const as = (user: string, args: string[]) => keyward(args, { KEYWARD_STORE: store, KEYWARD_USER: user });
    const oldId = alice.slice(3, 27);
    // An overlap long enough for the checks below on a loaded machine (each
    // command is a process start); the wait after them ends when it does.
    const rotating = Date.now();
    const r = as('alice', ['keys', 'rotate', oldId.slice(0, 8), '--overlap', '12s']);
    expect(r.code, r.stderr).toBe(0);
    const fresh = r.stdout.trim();
    expect(fresh).toMatch(/^kw_[0-9a-f]{24}_/);
    expect(r.stderr).toMatch(/Rotated .* to .*The old token works until/s);
    expect(as('nobody', ['keys', 'verify', alice]).code).toBe(0);
    expect(as('nobody', ['keys', 'verify', fresh]).code).toBe(0);
    const old = JSON.parse(as('alice', ['keys', 'get', oldId, '--json']).stdout);
    expect(old).toMatchObject({ status: 'active', rotatedTo: fresh.slice(3, 27) });
    // One process for both checks: each start eats into the overlap.
    const shown = as('alice', ['keys', 'get', oldId]).stdout;
    expect(shown).toMatch(/rotated to +[0-9a-f]{24}/);
    // What the key's view says its viewer may do: a key rotated already cannot be rotated again.
    expect(shown).toMatch(/^you may +keys rename, keys rm, keys revoke$/m);
    expect(as('alice', ['keys', 'get', fresh.slice(3, 27)]).stdout).toMatch(/^you may +keys rename, keys rm, keys revoke, keys rotate$/m);

    await new Promise((resolve) => setTimeout(resolve, Math.max(0, rotating + 12_500 - Date.now())));
    const reused = as('nobody', ['keys', 'verify', alice]);
    expect([reused.code, reused.stderr]).toEqual([1, expect.stringContaining('expired')]);
    expect(as('nobody', ['keys', 'verify', fresh]).code).toBe(0);
    const events = JSON.parse(as('alice', ['events', 'ls', '--type', 'api-key.reused-after-rotation', '--json']).stdout).data;
    expect(events).toMatchObject([{ keyId: oldId, data: { count: 1 } }]);

    // Only the owner rotates, and only an active key; a bad overlap is refused.
    const other = as('alice', ['keys', 'rotate', bob.slice(3, 27)]);
    expect([other.code, codeOf(other)]).toEqual([1, 'NOT_KEY_OWNER']);
    const expired = as('alice', ['keys', 'rotate', oldId]);
    expect([expired.code, codeOf(expired)]).toEqual([1, 'KEY_NOT_ACTIVE']);
    const bad = as('bob', ['keys', 'rotate', bob.slice(3, 27), '--overlap', 'later']);
    expect([bad.code, codeOf(bad)]).toEqual([1, 'INVALID_INPUT']);
  });
});
