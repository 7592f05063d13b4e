// keyward store copy between two JSON stores through the built keyward: the
// summary counts in words a person reads ("1 user, 1 key"), every token
// works against the copy, and a person at a terminal is told how far it got.
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { keyward, keywardBin, tempDir } from './support/keyward.js';
import { Session, killSessions } from './support/pty-session.js';

afterEach(killSessions);

it('copies a JSON store to another and sums it up in the singular where there is one', () => {
  const dir = tempDir('keyward-copy-');
  const from = join(dir, 'from.json');
  const to = join(dir, 'to.json');
  const run = (args: string[], store = from) => {
    const r = keyward(args, { KEYWARD_STORE: store, KEYWARD_USER: 'alice' });
    expect(r.code, r.stderr).toBe(0);
    return r;
  };
  run(['init', '--admin', 'alice']);
  run(['settings', 'set', '--enabled', 'on']);
  run(['users', 'set', 'alice', '--developer', 'on']);
  const token = run(['keys', 'create', '--description', 'café ☕ 東京']).stdout.trim();
  run(['keys', 'verify', token]);
  const copy = run(['store', 'copy', '--from', from, '--to', to]);
  expect(copy.stdout).toMatch(/^ {2}1 user, 1 key, \d+ events, usage of 1 key\.$/m);
  expect(run(['keys', 'verify', token], to).stdout).toContain('"café ☕ 東京"');
});

it('says how far it got on a terminal, and nothing more to a script', async () => {
  const dir = tempDir('keyward-copy-');
  const from = join(dir, 'from.json');
  const env = { KEYWARD_STORE: from, KEYWARD_USER: 'alice' };
  for (const args of [['init', '--admin', 'alice'], ['settings', 'set', '--enabled', 'on'], ['users', 'set', 'alice', '--developer', 'on'], ['keys', 'create', '--description', 'one'], ['keys', 'create', '--description', 'two']]) {
    expect(keyward(args, env).code).toBe(0);
  }
  const events = JSON.parse(keyward(['events', 'ls', '--limit', '100', '--json'], env).stdout).data.length as number;
  // A script (stderr a pipe): the summary on stdout, nothing on stderr.
  const piped = keyward(['store', 'copy', '--from', from, '--to', join(dir, 'piped.json')], env);
  expect([piped.code, piped.stderr]).toEqual([0, '']);
  // A person at a terminal: the keys done, then the summary.
  const s = new Session([keywardBin, 'store', 'copy', '--from', from, '--to', join(dir, 'tty.json')], env);
  await s.waitFor('Every token works against the new store.');
  expect(s.screen()).toContain('2 keys copied; copying the events, oldest first…');
  expect(s.screen()).toContain(`2 keys, ${events} events`);
  expect((await s.exit).exitCode).toBe(0);
});
