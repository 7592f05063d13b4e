// Asking keyward what it does, through the real `keyward` process: `help`,
// `--help`, `-h`, a command's or a noun's own help and `--version` all answer
// on stdout and exit 0, without opening (or creating) a store; a word that is
// no command is a usage mistake (INVALID_INPUT, exit 2) with the usage.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { codeOf, keyward, repoRoot, tempDir } from './support/keyward.js';

const store = join(tempDir('keyward-help-'), 'keyward.json');
const env = { KEYWARD_STORE: store, KEYWARD_USER: 'alice' };

/** The commands a help text lists, as "keyward keys ls", "keyward users add", …. */
function listed(text: string): string[] {
  return [...text.matchAll(/^ {2}keyward ([a-z]+(?: [a-z]+)?)/gm)].map((m) => m[1]);
}

function answers(args: string[]): string {
  const r = keyward(args, env);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).toBe('');
  expect(existsSync(store)).toBe(false);
  return r.stdout;
}

describe('keyward help', () => {
  it.each([[['help']], [['--help']], [['-h']], [['--as', 'bob', 'help']]])('%j lists every command', (args) => {
    const text = answers(args);
    expect(text).toMatch(/^Keyward — API keys/);
    expect(listed(text)).toEqual(expect.arrayContaining(['init', 'settings set', 'users rm', 'keys ls', 'keys rotate', 'scan', 'store copy', 'help']));
    expect(text).toMatch(/^ {2}keyward --version/m);
  });

  it.each([[['help', 'keys']], [['keys', '--help']], [['keys', '-h']]])('%j lists the key commands only', (args) => {
    expect(listed(answers(args))).toEqual(['keys ls', 'keys create', 'keys get', 'keys rename', 'keys revoke', 'keys rm', 'keys rotate', 'keys verify']);
  });

  it.each([
    [['help', 'keys', 'rotate'], ['keys rotate']],
    [['keys', 'rotate', '--help'], ['keys rotate']],
    [['keys', 'create', '--description', 'x', '--help'], ['keys create']],
    [['users', 'ls', '--help'], ['users ls']],
    [['settings', '--help'], ['settings', 'settings set']],
    [['scan', '--help'], ['scan']],
    [['help', 'store'], ['store copy']],
  ])('%j shows that command', (args, commands) => {
    const text = answers(args);
    expect(listed(text)).toEqual(commands);
    expect(text).toMatch(/^ {2}--store STORE/m); // and what every command takes
  });

  it.each([[['serve', '--help']], [['help', 'serve']]])('%j says what each of its options does', (args) => {
    const text = answers(args);
    const flags = [...text.split('\n')[1].matchAll(/--[a-z-]+/g)].map((m) => m[0]);
    expect(flags).toEqual(['--host', '--port', '--trust-proxy', '--leak-keys', '--db-connections', '--metrics-port']);
    const options = text.slice(text.indexOf('Options\n'), text.indexOf('Everywhere'));
    for (const f of flags) expect(options, f).toMatch(new RegExp(`^ {2}${f} \\S*\\s+\\S`, 'm'));
  });

  it('--version prints the version of the keyward package', () => {
    const { version } = JSON.parse(readFileSync(join(repoRoot, 'packages/cli/package.json'), 'utf8')) as { version: string };
    expect(answers(['--version'])).toBe(`${version}\n`);
    expect(JSON.parse(answers(['--version', '--json']))).toEqual({ version });
  });

  it.each([
    [['help', 'frob'], /^error: "frob" is not a keyward command\. \(INVALID_INPUT\)$/m, 'keys ls'],
    [['frob', '--help'], /^error: "frob" is not a keyward command\. \(INVALID_INPUT\)$/m, 'keys ls'],
    [['help', 'keys', 'frob'], /^error: "frob" is not a keys command; use one of: ls, create/m, 'keys rotate'],
    [['help', 'kyes'], /did you mean `keyward keys`\?/, 'users ls'],
  ])('%j is a usage mistake with the usage', (args, message, usageNames) => {
    const r = keyward(args, env);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(codeOf({ ...r, stderr: r.stderr.split('\n')[0] })).toBe('INVALID_INPUT');
    expect(r.stderr).toMatch(message);
    expect(listed(r.stderr)).toContain(usageNames);
    expect(existsSync(store)).toBe(false);
  });
});
