// `keyward --refresh SECONDS`: how often the terminal UI looks again at a
// Keyward server (`--server`), which tells it of no change: a key made by
// someone else shows within one look. (On a local store the UI follows the
// store's own change signal at once; the look then serves keys that expire
// with nothing written.) The built `keyward` in a real pseudo-terminal,
// against a real `keyward serve`; the change made by the command line in a
// process of its own.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, expect, it } from 'vitest';
import { keyward, keywardBin, tempDir } from './support/keyward.js';
import { Session, TOKEN, killSessions } from './support/pty-session.js';
import { startServe } from './support/serve.js';

afterEach(killSessions);

/** A store where alice may hold keys, a server on it, and a token of hers to sign in to it with. */
async function served(): Promise<{ store: string; url: string; token: string }> {
  const store = join(tempDir('keyward-tui-refresh-'), 'keyward.json');
  const env = { KEYWARD_STORE: store, KEYWARD_USER: 'alice' };
  for (const args of [['init', '--tenant', 'Acme', '--admin', 'alice'], ['settings', 'set', '--enabled', 'on'], ['users', 'set', 'alice', '--developer', 'on']]) {
    const r = keyward(args, env);
    expect(r.code, r.stderr).toBe(0);
  }
  const made = keyward(['keys', 'create', '--description', 'terminal'], env);
  expect(made.code, made.stderr).toBe(0);
  const { url } = await startServe(store);
  return { store, url, token: TOKEN.exec(made.stdout)![0] };
}

/** A key made by the command line on the server's store, while the UI is open. */
function madeElsewhere(store: string, description: string): void {
  const r = keyward(['keys', 'create', '--description', description], { KEYWARD_STORE: store, KEYWARD_USER: 'alice' });
  expect(r.code, r.stderr).toBe(0);
}

it('shows a key made elsewhere within a few seconds by default (a look every 2 s)', async () => {
  const { store, url, token } = await served();
  const s = new Session([keywardBin, '--server', url], { KEYWARD_TOKEN: token });
  await s.waitFor('terminal');
  madeElsewhere(store, 'made by a script');
  await s.waitFor('made by a script', 8_000);
});

it('with --refresh 3600 does not look again on its own, and still shows what a screen asks for', async () => {
  const { store, url, token } = await served();
  const s = new Session([keywardBin, '--server', url, '--refresh', '3600'], { KEYWARD_TOKEN: token });
  await s.waitFor('terminal');
  madeElsewhere(store, 'made by a script');
  // Four of the default's looks.
  await sleep(8_000);
  expect(s.screen()).not.toContain('made by a script');
  // My keys asks as it opens.
  s.press('5');
  await s.waitFor('made by a script');
});

it('refuses a --refresh that is not 1 to 3600 whole seconds, before it takes the terminal', () => {
  const r = keyward(['--refresh', '0'], { KEYWARD_STORE: join(tempDir('keyward-tui-refresh-'), 'keyward.json'), KEYWARD_USER: 'alice' });
  expect(r.code).toBe(1);
  expect(r.stderr).toContain('--refresh takes a whole number from 1 to 3600, not "0". (INVALID_INPUT)');
});
