// The command line's first hour (issue 13), through the real `keyward`
// process: typos get "did you mean", weeks are durations, a mistyped store
// path is refused instead of becoming a new tenant, an ignored option is
// said, the hints after `init` run as printed, and bulk deletes ask first.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as pty from 'node-pty';
import { describe, expect, it } from 'vitest';
import { type Result, cleanEnv, codeOf, keyward, keywardBin, keywardBinDir, tempDir } from './support/keyward.js';
import { bootstrap } from './support/flow.js';
import { startServe } from './support/serve.js';

function usageMistake(r: Result, message: RegExp): void {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr.split('\n')[0]).toMatch(message);
  expect(r.stderr).toMatch(/Usage:?\s+keyward/);
}

describe('typos get a "did you mean"', () => {
  const store = join(tempDir(), 'keyward.json');
  const env = { KEYWARD_STORE: store, KEYWARD_USER: 'alice' };

  it.each([
    [['keys', 'list'], /"list" is not a keys command; did you mean `keyward keys ls`\?/],
    [['keys', 'delete', 'abc'], /"delete" is not a keys command; did you mean `keyward keys rm`\?/],
    [['key', 'ls'], /"key" is not a keyward command; did you mean `keyward keys`\?/],
    [['keys', 'create', '--desc', 'x'], /Unknown option --desc for `keyward keys create`; did you mean --description\?/],
    [['keys', 'create', '--description', 'x', '--expires', '1d'], /Unknown option --expires for `keyward keys create`; did you mean --expiry\?/],
    [['keys', 'ls', '-j'], /Unknown option -j for `keyward keys ls`; did you mean --json\?/],
    [['keys', 'ls', '--status', 'inactive'], /--status takes active, expired, revoked, not "inactive"\. \(INVALID_INPUT\)$/],
    [['keys', 'ls', '--status', 'revokd'], /did you mean revoked\?/],
  ])('%j', (args, message) => {
    usageMistake(keyward(args, env), message);
    expect(existsSync(store)).toBe(false);
  });
});

describe('durations in weeks', () => {
  it('takes 1w, 2w and P2W for lifetimes, settings and --since', () => {
    const store = join(tempDir(), 'keyward.json');
    bootstrap(store);
    const run = (...args: string[]) => {
      const r = keyward(args, { KEYWARD_STORE: store, KEYWARD_USER: 'alice' });
      expect(r.code, r.stderr).toBe(0);
      return r.stdout;
    };
    expect(JSON.parse(run('settings', 'set', '--max-expiry', '2w', '--json')).max_api_key_expiry).toBe('P2W');
    const day = 86_400_000;
    for (const [text, days] of [['1w', 7], ['P2W', 14], ['2w', 14]] as const) {
      const key = JSON.parse(run('keys', 'create', '--description', `lives ${text}`, '--expiry', text, '--json'));
      expect(Math.round((Date.parse(key.expiry) - Date.parse(key.created)) / day)).toBe(days);
    }
    const refused = keyward(['keys', 'create', '--description', 'too long', '--expiry', '3w'], { KEYWARD_STORE: store, KEYWARD_USER: 'alice' });
    expect(codeOf(refused)).toBe('EXPIRY_TOO_LONG');
    expect(JSON.parse(run('events', 'ls', '--since', '1w', '--json')).data.length).toBeGreaterThan(0);
    // Sorted by expiry, latest first, as a newcomer types it (--sort -expiry, not --sort=-expiry).
    const expiries = JSON.parse(run('keys', 'ls', '--sort', '-expiry', '--json')).data.map((k: { expiry: string }) => k.expiry);
    expect(expiries.length).toBeGreaterThan(3);
    expect(expiries).toEqual([...expiries].sort().reverse());
    expect(JSON.parse(run('keys', 'ls', '--sort', '-lastUsed', '--json')).data.length).toBe(expiries.length);
  });
});

describe('stores are created only by init and the very first run at the default location', () => {
  it('refuses a --store or KEYWARD_STORE path that does not exist, and creates nothing', () => {
    const dir = tempDir();
    const missing = join(dir, 'typo.json');
    for (const [args, env, via] of [
      [['--store', missing, 'keys', 'ls'], {}, '--store'],
      [['keys', 'ls'], { KEYWARD_STORE: missing }, 'KEYWARD_STORE'],
      [['serve', '--port', '0', '--store', missing], {}, '--store'],
    ] as const) {
      const r = keyward([...args], { ...env, KEYWARD_USER: 'alice', XDG_DATA_HOME: dir });
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toBe(`error: There is no Keyward store at ${missing} (from ${via}); check the path, or create one there with \`keyward init --store ${missing}\`. (UNAVAILABLE)\n`);
      expect(existsSync(missing)).toBe(false);
    }
    expect(keyward(['init', '--store', missing], { KEYWARD_USER: 'alice' }).code).toBe(0);
    expect(keyward(['--store', missing, 'keys', 'ls'], { KEYWARD_USER: 'alice' }).code).toBe(0);
  });

  it('creates the store on the very first run at the default location, and says so', () => {
    const data = tempDir();
    const r = keyward(['keys', 'ls'], { XDG_DATA_HOME: data, KEYWARD_USER: 'carol' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`Created a new Keyward store at ${join(data, 'keyward', 'keyward.json')} with you (carol) as the first tenant admin.`);
    expect(existsSync(join(data, 'keyward', 'keyward.json'))).toBe(true);
  });
});

describe('options that do nothing are said', () => {
  it('warns that --as and --store are ignored against a server', () => {
    const r = keyward(['--as', 'dev', '--store', '/tmp/x.json', 'keys', 'ls'], { KEYWARD_SERVER: 'http://127.0.0.1:9', KEYWARD_TOKEN: 'kw_x' });
    expect(r.stderr).toContain('warning: --as is ignored with KEYWARD_SERVER: the token in KEYWARD_TOKEN decides who acts.');
    expect(r.stderr).toContain('warning: --store is ignored with KEYWARD_SERVER: the server uses its own store.');
    expect(existsSync('/tmp/x.json')).toBe(false);
  });
});

describe('the hints after init run as printed', () => {
  it.each([
    ['with --store', true],
    ['with KEYWARD_STORE', false],
  ])('%s, as an OS user who is not the admin', (_label, flag) => {
    const dir = tempDir();
    const store = join(dir, 'my store.json'); // a path the shell must have quoted
    const bin = keywardBinDir();
    const env = cleanEnv({ PATH: `${bin}:${process.env.PATH}`, HOME: dir, ...(flag ? {} : { KEYWARD_STORE: store }) });
    const init = execFileSync('keyward', [...(flag ? ['--store', store] : []), 'init', '--tenant', 'Acme', '--admin', 'alice'], { env, encoding: 'utf8' });
    const steps = init.split('\n').filter((l) => l.startsWith('  keyward ')).map((l) => l.trim());
    expect(steps).toHaveLength(3);
    expect(steps[0]).toBe(`keyward ${flag ? `--store '${store}' ` : ''}--as alice settings set --enabled on`);
    let token = '';
    for (const step of steps) token = execFileSync('sh', ['-c', step], { env, encoding: 'utf8' }).trim();
    expect(token).toMatch(/^kw_[0-9a-f]{24}_/);
    expect(execFileSync('keyward', ['--store', store, 'keys', 'verify', token], { env, encoding: 'utf8' })).toMatch(/^valid: key/);
  });
});

describe('a refusal that suggests a command suggests one that runs', () => {
  it('tells a user the tenant does not have how an admin adds them, as a command that works as printed', () => {
    const store = join(tempDir(), 'keyward.json');
    bootstrap(store);
    const r = keyward(['keys', 'ls'], { KEYWARD_STORE: store, KEYWARD_USER: 'dana' });
    expect(codeOf(r)).toBe('USER_NOT_FOUND');
    const suggested = /`(keyward [^`]+)`/.exec(r.stderr)![1];
    expect(suggested).toBe('keyward --as alice users add dana --licence');
    const bin = keywardBinDir();
    execFileSync('sh', ['-c', suggested], { env: cleanEnv({ PATH: `${bin}:${process.env.PATH}`, KEYWARD_STORE: store }) });
    expect(keyward(['keys', 'ls'], { KEYWARD_STORE: store, KEYWARD_USER: 'dana' }).code).toBe(0);
  });
});

/** Runs keyward in a real terminal, answers the question it asks, and returns everything it printed and its exit code. */
function onTerminal(args: string[], env: Record<string, string>, answer: string): Promise<{ output: string; code: number }> {
  return new Promise((resolve, reject) => {
    const p = pty.spawn(process.execPath, [keywardBin, ...args], { cols: 120, rows: 40, env: cleanEnv(env) as Record<string, string> });
    let output = '';
    let answered = false;
    const timer = setTimeout(() => {
      p.kill();
      reject(new Error(`no answer; the terminal shows:\n${output}`));
    }, 20_000);
    p.onData((d) => {
      output += d;
      if (!answered && output.includes('[y/N]')) {
        answered = true;
        p.write(answer + '\r');
      }
    });
    p.onExit(({ exitCode }) => {
      clearTimeout(timer);
      resolve({ output, code: exitCode });
    });
  });
}

describe('destructive bulk commands ask first', () => {
  it('asks on a terminal before deleting all keys or revoking several; no leaves everything as it was', async () => {
    const store = join(tempDir(), 'keyward.json');
    bootstrap(store);
    const env = { KEYWARD_STORE: store, KEYWARD_USER: 'alice' };
    const mine = () => JSON.parse(keyward(['keys', 'ls', '--owner', 'alice', '--json'], env).stdout).data as { id: string; status: string }[];
    keyward(['keys', 'create', '--description', 'second'], env);
    const before = readFileSync(store, 'utf8');

    const no = await onTerminal(['keys', 'rm', '--all'], env, 'n');
    expect(no.output).toContain('Delete all 2 of your keys (alice)? Deleting is permanent');
    expect(no.output).toContain('"alice bootstrap" (alice, active)');
    expect(no.output).toContain('Nothing was changed.');
    expect(no.code).toBe(2);
    expect(readFileSync(store, 'utf8')).toBe(before);

    const ids = mine().map((k) => k.id);
    const revoke = await onTerminal(['keys', 'revoke', ...ids], env, 'y');
    expect(revoke.output).toContain('Revoke 2 keys? Revoking is immediate and cannot be undone:');
    expect(revoke.code).toBe(0);
    expect(mine().map((k) => k.status)).toEqual(['revoked', 'revoked']);

    const yes = await onTerminal(['keys', 'rm', '--all'], env, 'y');
    expect(yes.output).toContain('Deleted 2 keys.');
    expect(yes.code).toBe(0);
    expect(mine()).toEqual([]);
  });
});

describe('short key ids and removing users', () => {
  it('takes an unambiguous prefix of 6 or more characters wherever a key id is taken, locally and against a server', async () => {
    const store = join(tempDir(), 'keyward.json');
    const tokens = bootstrap(store);
    const env = { KEYWARD_STORE: store, KEYWARD_USER: 'alice' };
    const ok = (args: string[], e: Record<string, string> = env) => {
      const r = keyward(args, e);
      expect(r.code, r.stderr).toBe(0);
      return r.stdout;
    };
    const key = JSON.parse(ok(['keys', 'create', '--description', 'short ids', '--json'])) as { id: string };
    expect(JSON.parse(ok(['keys', 'get', key.id.slice(0, 8), '--json'])).id).toBe(key.id);
    expect(ok(['keys', 'rename', key.id.slice(0, 6), 'short ids, renamed'])).toBe(`Renamed ${key.id} to "short ids, renamed".\n`);
    expect(JSON.parse(ok(['events', 'ls', '--key', key.id.slice(0, 7), '--json'])).data.map((e: { eventType: string }) => e.eventType)).toEqual(['api-key.renamed', 'api-key.generated']);
    const short = keyward(['keys', 'get', key.id.slice(0, 5)], env);
    expect([short.code, codeOf(short)]).toEqual([1, 'INVALID_INPUT']);
    expect(short.stderr).toContain('give the whole id (24 hexadecimal characters) or at least its first 6');

    const server = await startServe(store);
    const remote = { KEYWARD_SERVER: server.url, KEYWARD_TOKEN: tokens.alice };
    expect(JSON.parse(ok(['keys', 'get', key.id.slice(0, 8), '--json'], remote)).id).toBe(key.id);
    expect(ok(['keys', 'revoke', key.id.slice(0, 8)], remote)).toMatch(/^Revoked [0-9a-f]{24} "short ids, renamed"/);
    const none = keyward(['keys', 'get', 'ffffff0000'], remote);
    expect(codeOf(none)).toBe('KEY_NOT_FOUND');
  });

  it('removes a user with `users rm`: states and confirms what happens to their keys, --yes for scripts, never the last admin', async () => {
    const store = join(tempDir(), 'keyward.json');
    const tokens = bootstrap(store);
    const env = { KEYWARD_STORE: store, KEYWARD_USER: 'alice' };
    expect(keyward(['users', 'add', 'carol', '--licence'], env).code).toBe(0);

    const unconfirmed = keyward(['users', 'rm', 'bob'], env);
    expect([unconfirmed.code, unconfirmed.stderr.split('\n')[0]]).toEqual([2, 'error: Removing bob needs confirmation: add --yes (nothing was changed). (INVALID_INPUT)']);
    const no = await onTerminal(['users', 'rm', 'bob'], env, 'n');
    expect(no.output).toContain('Remove bob (Developer)? Their 1 active key will be revoked first, at once and for good:');
    expect(no.output).toContain('"bob bootstrap"');
    expect(no.code).toBe(2);
    expect(keyward(['keys', 'verify', tokens.bob], env).code).toBe(0);

    const yes = await onTerminal(['users', 'rm', 'bob'], env, 'y');
    expect(yes.output).toContain('Removed bob; 1 active key revoked.');
    expect(yes.code).toBe(0);
    expect(keyward(['keys', 'verify', tokens.bob], env).code).toBe(1);
    expect(JSON.parse(keyward(['users', 'ls', '--json'], env).stdout).data.map((u: { name: string }) => u.name)).toEqual(['alice', 'carol']);
    const removed = JSON.parse(keyward(['events', 'ls', '--type', 'user.removed', '--json'], env).stdout).data;
    expect(removed).toEqual([expect.objectContaining({ userId: 'alice', data: expect.objectContaining({ user: 'bob' }) })]);

    const last = keyward(['users', 'rm', 'alice', '--yes'], env);
    expect([last.code, codeOf(last)]).toEqual([1, 'INVALID_INPUT']);
    expect(last.stderr).toContain("alice is the tenant's only admin");
    const ghost = keyward(['users', 'rm', 'ghost', '--yes'], env);
    expect(codeOf(ghost)).toBe('USER_NOT_FOUND');

    // Over HTTP, the same: DELETE /api/v1/users/{name}, through `keyward --server`.
    const server = await startServe(store);
    const r = keyward(['users', 'rm', 'carol', '--yes', '--json'], { KEYWARD_SERVER: server.url, KEYWARD_TOKEN: tokens.alice });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ user: { id: 'carol', name: 'carol', licence: true, roles: [], actions: { setLicence: false, setRoles: false, demote: false, remove: false } }, revoked: [] });
  });
});
