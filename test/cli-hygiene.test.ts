// Command line fixes of the key hygiene issue: an empty description is a
// refusal (INVALID_INPUT, exit 1), `keys verify -` reads the token from
// standard input, and no message echoes a token given where an id belongs.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanEnv, codeOf, keyward, keywardBin, tempDir } from './support/keyward.js';
import { bootstrap } from './support/flow.js';

describe('keyward key hygiene on the command line', () => {
  const store = join(tempDir(), 'keyward.json');
  const { alice } = bootstrap(store);
  const env = { KEYWARD_STORE: store, KEYWARD_USER: 'alice' };

  it('refuses an empty description like a blank one: exit 1, INVALID_INPUT', () => {
    for (const d of ['', '   ']) {
      const r = keyward(['keys', 'create', '--description', d], env);
      expect([r.code, codeOf(r)]).toEqual([1, 'INVALID_INPUT']);
      const j = keyward(['keys', 'create', '--description', d, '--json'], env);
      expect(JSON.parse(j.stdout).error.code).toBe('INVALID_INPUT');
    }
  });

  it('reads the token to verify from standard input with -', () => {
    const verify = (input: string) => spawnSync(process.execPath, [keywardBin, 'keys', 'verify', '-'], { input, env: cleanEnv(env), encoding: 'utf8' });
    const ok = verify(`${alice}\n`);
    expect([ok.status, ok.stdout]).toEqual([0, expect.stringMatching(/^valid: key /)]);
    const bad = verify(`${alice.slice(0, -1)}x\n`);
    expect([bad.status, bad.stderr]).toEqual([1, expect.stringContaining('(UNAUTHENTICATED)')]);
    expect(verify('').status).toBe(1);
  });

  it('never prints a token given where a key id belongs', () => {
    for (const args of [['keys', 'get', alice], ['keys', 'rename', alice, 'x'], ['keys', 'revoke', alice], ['keys', 'rm', alice]]) {
      const r = keyward([...args, '--json'], env);
      expect(r.code).not.toBe(0);
      expect(r.stdout + r.stderr).not.toContain(alice.slice(28, 40));
      const human = keyward(args, env);
      expect(human.stdout + human.stderr).not.toContain(alice.slice(28, 40));
    }
  });
});
