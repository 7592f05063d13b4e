// keyward store copy between two JSON stores through the built keyward: the
// summary counts in words a person reads ("1 user, 1 key"), and every token
// works against the copy.
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { keyward, tempDir } from './support/keyward.js';

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
