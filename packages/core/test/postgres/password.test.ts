// password.ts: a URL without a password takes it as libpq does — PGPASSWORD,
// else the first matching line of the password file — and a refusal that
// says where it looked. Real files in a temporary directory. The same
// through real `keyward` processes and a real server:
// test/postgres-password.pg.test.ts.

import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KeywardError } from '../../src/refusal.js';
import { type PasswordAsked, passwordFileFields, passwordFor } from '../../src/store/postgres/password.js';

const dir = mkdtempSync(join(tmpdir(), 'keyward-password-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
/** A password file of these lines (mode 0600 unless said), and the environment naming it. */
function passfile(lines: string[], mode = 0o600): NodeJS.ProcessEnv {
  const path = join(dir, `pgpass-${files++}`);
  writeFileSync(path, lines.join('\n'));
  chmodSync(path, mode);
  return { PGPASSFILE: path };
}

const asked: PasswordAsked = { host: 'db.internal', port: 5433, database: 'keyward', user: 'kw' };
const LOCATION = 'postgres://kw@db.internal:5433/keyward';

async function refusal(p: Promise<string>): Promise<KeywardError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(KeywardError);
  return e as KeywardError;
}

describe('passwordFileFields', () => {
  it('splits host, port, database and user at unescaped colons; the password is the rest; \\x is x', () => {
    expect(passwordFileFields('a:5432:db:user:secret')).toEqual(['a', '5432', 'db', 'user', 'secret']);
    expect(passwordFileFields('a\\:b:5432:d\\\\b:user:pa:ss\\:word')).toEqual(['a:b', '5432', 'd\\b', 'user', 'pa:ss:word']);
    expect(passwordFileFields('only:three:fields')).toHaveLength(3);
  });
});

describe('passwordFor', () => {
  it('PGPASSWORD first; an empty one is none, and the file is read', async () => {
    const env = passfile(['*:*:*:*:from-the-file']);
    expect(await passwordFor(asked, LOCATION, { ...env, PGPASSWORD: 'from-the-environment' })).toBe('from-the-environment');
    expect(await passwordFor(asked, LOCATION, { ...env, PGPASSWORD: '' })).toBe('from-the-file');
  });

  it("the first line that matches: each field exact or '*', comments and short lines skipped", async () => {
    const env = passfile([
      '# a comment: *:*:*:*:not-this',
      'db.internal:5433:keyward',
      'db.internal:5432:keyward:kw:wrong-port',
      'other:5433:keyward:kw:wrong-host',
      'db.internal:5433:other:kw:wrong-database',
      'db.internal:5433:keyward:someone:wrong-user',
      'db.internal:*:keyward:kw:this-one',
      '*:*:*:*:too-late',
    ]);
    expect(await passwordFor(asked, LOCATION, env)).toBe('this-one');
  });

  it('a socket directory is matched as localhost; no port is 5432; no database is the user', async () => {
    const env = passfile(['localhost:5432:kw:kw:local']);
    expect(await passwordFor({ host: '/var/run/postgresql', user: 'kw' }, LOCATION, env)).toBe('local');
    expect(await passwordFor({ user: 'kw' }, LOCATION, env)).toBe('local');
  });

  it('no line matches, or no file: refused (UNAVAILABLE) saying where a password may go', async () => {
    for (const env of [passfile(['*:*:*:someone-else:x']), { PGPASSFILE: join(dir, 'missing') }]) {
      const e = await refusal(passwordFor(asked, LOCATION, env));
      expect(e.code).toBe('UNAVAILABLE');
      expect(e.message).toBe(
        `The PostgreSQL store at ${LOCATION} asks for a password, and none was given: put it in the URL (postgres://USER:PASSWORD@HOST/DB), in PGPASSWORD, or in ~/.pgpass (or the file PGPASSFILE names, mode 0600); nothing was changed.`,
      );
    }
  });

  it('a file others may read, or one that is not a plain file, is not read, and the refusal says why', async () => {
    const open = passfile(['*:*:*:*:secret-in-an-open-file'], 0o640);
    const e = await refusal(passwordFor(asked, LOCATION, open));
    expect(e.message).toContain(`(${open.PGPASSFILE} was not read: others may read it; chmod 600 it)`);
    expect(e.message).not.toContain('secret-in-an-open-file');
    const folder = join(dir, 'a-folder');
    mkdirSync(folder);
    expect((await refusal(passwordFor(asked, LOCATION, { PGPASSFILE: folder }))).message).toContain(`(${folder} was not read: it is not a plain file)`);
  });

  it('HOME/.pgpass when PGPASSFILE is not set', async () => {
    const home = join(dir, 'home');
    mkdirSync(home);
    writeFileSync(join(home, '.pgpass'), '*:*:*:kw:at-home\n', { mode: 0o600 });
    expect(await passwordFor(asked, LOCATION, { HOME: home })).toBe('at-home');
  });
});
