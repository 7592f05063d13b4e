// The built keyward against a Keyward server from before views carried their
// viewer's actions (support/older-server.ts: a real `keyward serve` whose
// answers lose `actions` and `may` on the way). Everything that worked
// against such a server must still work: the terminal UI opened with
// "Unexpected failure: Cannot read properties of undefined (reading
// 'seeAllKeys')", and --json had no actions. Each view's actions are the ones
// the real server gives the same viewer.
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { bootstrap } from './support/flow.js';
import { type Result, keyward, keywardAsync, keywardBin, tempDir } from './support/keyward.js';
import { startOlderServer } from './support/older-server.js';
import { Session, killSessions } from './support/pty-session.js';
import { startServe } from './support/serve.js';

const closers: (() => Promise<void>)[] = [];
afterEach(killSessions);
afterAll(async () => {
  for (const c of closers) await c();
});

async function servers() {
  const store = join(tempDir('keyward-older-'), 'acme.json');
  const tokens = bootstrap(store);
  keyward(['--as', 'bob', 'keys', 'create', '--description', 'café ☕ 東京'], { KEYWARD_STORE: store });
  const revoked = keyward(['--as', 'bob', 'keys', 'create', '--description', 'gone'], { KEYWARD_STORE: store }).stdout.trim();
  keyward(['keys', 'revoke', revoked.slice(3, 27)], { KEYWARD_STORE: store, KEYWARD_USER: 'alice' });
  const real = await startServe(store);
  const older = await startOlderServer(real.url);
  closers.push(older.close);
  return { real: real.url, older: older.url, tokens };
}

const json = (r: Result) => {
  expect(r.code, r.stderr + r.stdout).toBe(0);
  return JSON.parse(r.stdout) as { data: { id: string; actions: unknown }[] };
};
// Each call uses the token (its key's last use moves): what is compared is who may do what.
const actionsOf = (r: Result) => json(r).data.map((v) => [v.id, v.actions]);

describe('keyward against a server older than the views’ actions', () => {
  it('lists keys and users with the actions the real server gives each viewer', async () => {
    const { real, older, tokens } = await servers();
    for (const token of [tokens.alice, tokens.bob]) {
      for (const args of [['keys', 'ls', '--json'], ['keys', 'ls', '--status', 'revoked', '--json']]) {
        const want = actionsOf(await keywardAsync(args, { KEYWARD_SERVER: real, KEYWARD_TOKEN: token }));
        const got = actionsOf(await keywardAsync(args, { KEYWARD_SERVER: older, KEYWARD_TOKEN: token }));
        expect(want.length).toBeGreaterThan(0);
        expect(got).toEqual(want);
      }
    }
    // The proxy runs in this process: keyward is run without blocking it.
    const users = actionsOf(await keywardAsync(['users', 'ls', '--json'], { KEYWARD_SERVER: real, KEYWARD_TOKEN: tokens.alice }));
    expect(actionsOf(await keywardAsync(['users', 'ls', '--json'], { KEYWARD_SERVER: older, KEYWARD_TOKEN: tokens.alice }))).toEqual(users);
    const key = json(await keywardAsync(['keys', 'ls', '--search', 'café', '--json'], { KEYWARD_SERVER: real, KEYWARD_TOKEN: tokens.bob })).data[0];
    const got = await keywardAsync(['keys', 'get', key.id, '--json'], { KEYWARD_SERVER: older, KEYWARD_TOKEN: tokens.bob });
    expect(JSON.parse(got.stdout).actions).toEqual(key.actions);
  });

  it('opens the terminal UI on every key, the users and my keys', { timeout: 60_000 }, async () => {
    const { older, tokens } = await servers();
    const s = new Session([keywardBin, '--server', older], { KEYWARD_TOKEN: tokens.alice });
    await s.waitFor('café ☕ 東京');
    expect(s.screen()).not.toContain('Unexpected failure');
    s.press('4');
    await s.waitFor(/Users\s+\d+ users? of tenant/);
    expect(s.screen()).not.toContain('Unexpected failure');
    s.press('5');
    // My keys is alice's own: bob's key is not on it.
    const mine = await s.waitFor(/My keys\s+\d+\/\d+ keys?/);
    expect(mine).toContain('alice bootstrap');
    expect(mine).not.toContain('café');
    expect(mine).not.toContain('Unexpected failure');
    s.press('q');
    await s.exit;
  });
});
