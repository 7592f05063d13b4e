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
