// keyward's tables line up in a terminal whatever the script of the text: a
// CJK character or an emoji takes two columns, so the columns after a
// description such as "café ☕ 東京" start where the header's do, and a long
// description is clipped to the column's width without splitting a character.
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { keyward, tempDir } from './support/keyward.js';

it('lines up keys ls under its header with wide characters, and clips them whole', () => {
  const store = join(tempDir('keyward-wide-'), 'k.json');
  const env = { KEYWARD_STORE: store, KEYWARD_USER: 'alice' };
  const run = (...args: string[]) => {
    const r = keyward(args, env);
    expect(r.code, r.stderr).toBe(0);
    return r.stdout;
  };
  run('init', '--admin', 'alice');
  run('settings', 'set', '--enabled', 'on');
  run('users', 'set', 'alice', '--developer', 'on');
  run('keys', 'create', '--description', 'café ☕ 東京');
  run('keys', 'create', '--description', 'deploy');
  run('keys', 'create', '--description', '東京'.repeat(25));
  const [head, ...rows] = run('keys', 'ls').trimEnd().split('\n');
  // The description column is 39 columns wide (the clipped one: 19 characters of 2 columns, then "…"), then two spaces.
  expect(head).toMatch(/^ID {24}DESCRIPTION {30}OWNER  STATUS/);
  const byText = (t: string) => rows.find((r) => r.includes(t))!;
  expect(byText('deploy')).toMatch(/^[0-9a-f]{24}  deploy {35}alice  active/);
  // "café ☕ 東京" is 9 characters but 12 columns: padded with 27 spaces, not 30.
  expect(byText('café')).toMatch(/^[0-9a-f]{24}  café ☕ 東京 {29}alice  active/);
  expect(byText('東京東京')).toMatch(new RegExp(`^[0-9a-f]{24}  ${'東京'.repeat(9)}東…  alice  active`));
  expect(rows.join('\n')).not.toContain('\ufffd');
});
