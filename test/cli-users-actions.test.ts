// `keyward users ls` says what the viewer may do to each user, as its views
// carry it (core's userActions), in its table and in --json: the last admin
// keeps the role and cannot be removed; with a second admin, either may be.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { keyward, tempDir } from './support/keyward.js';

interface UserJson {
  name: string;
  actions: { setLicence: boolean; setRoles: boolean; demote: boolean; remove: boolean };
}

describe('keyward users ls', () => {
  const env = { KEYWARD_STORE: join(tempDir('keyward-users-'), 'keyward.json'), KEYWARD_USER: 'alice' };
  const run = (...args: string[]) => {
    const r = keyward(args, env);
    expect(r.code, r.stderr).toBe(0);
    return r.stdout;
  };
  /** The YOU MAY cell of each row of the table, by user. */
  const mayColumn = (): Record<string, string> => {
    const [head, ...rows] = run('users', 'ls').trimEnd().split('\n');
    const at = head.indexOf('YOU MAY');
    expect(at).toBeGreaterThan(0);
    return Object.fromEntries(rows.map((r) => [r.split(' ')[0], r.slice(at)]));
  };
  const actions = (): Record<string, UserJson['actions']> =>
    Object.fromEntries((JSON.parse(run('users', 'ls', '--json')).data as UserJson[]).map((u) => [u.name, u.actions]));

  it('shows what the viewer may do to each user, in the table and in --json', () => {
    run('init', '--tenant', 'Acme', '--admin', 'alice');
    run('users', 'add', 'bob', '--licence');
    expect(mayColumn()).toEqual({ alice: 'set licence, set roles', bob: 'set licence, set roles, remove' });
    expect(actions()).toEqual({
      alice: { setLicence: true, setRoles: true, demote: false, remove: false },
      bob: { setLicence: true, setRoles: true, demote: false, remove: true },
    });

    run('users', 'set', 'bob', '--admin', 'on');
    expect(mayColumn()).toEqual({ alice: 'set licence, set roles, take admin role, remove', bob: 'set licence, set roles, take admin role, remove' });
    expect(actions().alice).toEqual({ setLicence: true, setRoles: true, demote: true, remove: true });
  });
});
