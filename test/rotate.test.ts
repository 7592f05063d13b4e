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
    // During an overlap: one longer than any run of the checks below (each a
    // process start: four took over 12 s at load 15-19, and the old key read
    // 'expired').
    const oldId = alice.slice(3, 27);
    const r = as('alice', ['keys', 'rotate', oldId.slice(0, 8), '--overlap', '10m']);
    expect(r.code, r.stderr).toBe(0);
    const fresh = r.stdout.trim();
    expect(fresh).toMatch(/^kw_[0-9a-f]{24}_/);
    expect(r.stderr).toMatch(/Rotated .* to .*The old token works until/s);
    expect(as('nobody', ['keys', 'verify', alice]).code).toBe(0);
    expect(as('nobody', ['keys', 'verify', fresh]).code).toBe(0);
    const old = JSON.parse(as('alice', ['keys', 'get', oldId, '--json']).stdout);
    expect(old).toMatchObject({ status: 'active', rotatedTo: fresh.slice(3, 27) });
    const shown = as('alice', ['keys', 'get', oldId]).stdout;
    expect(shown).toMatch(/rotated to +[0-9a-f]{24}/);
    // What the key's view says its viewer may do: a key rotated already cannot be rotated again.
    expect(shown).toMatch(/^you may +keys rename, keys rm, keys revoke$/m);
    expect(as('alice', ['keys', 'get', fresh.slice(3, 27)]).stdout).toMatch(/^you may +keys rename, keys rm, keys revoke, keys rotate$/m);

    // After an overlap: another key rotated with a short one, used once the
    // end its view states has passed.
    const brief = as('alice', ['keys', 'create', '--description', 'rotated briefly']).stdout.trim();
    const briefId = brief.slice(3, 27);
    const rotated = as('alice', ['keys', 'rotate', briefId, '--overlap', '1s']);
    expect(rotated.code, rotated.stderr).toBe(0);
    const successor = rotated.stdout.trim();
    const { expiry } = JSON.parse(as('alice', ['keys', 'get', briefId, '--json']).stdout) as { expiry: string };
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(expiry) + 100 - Date.now())));
    const reused = as('nobody', ['keys', 'verify', brief]);
    expect([reused.code, reused.stderr]).toEqual([1, expect.stringContaining('expired')]);
    expect(as('nobody', ['keys', 'verify', successor]).code).toBe(0);
    const events = JSON.parse(as('alice', ['events', 'ls', '--type', 'api-key.reused-after-rotation', '--json']).stdout).data;
    expect(events).toMatchObject([{ keyId: briefId, data: { count: 1 } }]);

    // Only the owner rotates, and only an active key; a bad overlap is refused.
    const other = as('alice', ['keys', 'rotate', bob.slice(3, 27)]);
    expect([other.code, codeOf(other)]).toEqual([1, 'NOT_KEY_OWNER']);
    const expired = as('alice', ['keys', 'rotate', briefId]);
    expect([expired.code, codeOf(expired)]).toEqual([1, 'KEY_NOT_ACTIVE']);
    const bad = as('bob', ['keys', 'rotate', bob.slice(3, 27), '--overlap', 'later']);
    expect([bad.code, codeOf(bad)]).toEqual([1, 'INVALID_INPUT']);
  });
});
