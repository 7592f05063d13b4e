// `keyward scan` through the real command: a generated tree, .gitignore,
// the git index of a real repository, --revoke, and the README's pre-commit hook.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Result, cleanEnv, keywardBin, repoRoot, tempDir } from './support/keyward.js';
import { writeTokenTree } from './support/token-tree.js';

function scan(cwd: string, store: string, user: string, args: string[]): Result {
  const r = spawnSync(process.execPath, [keywardBin, 'scan', ...args], { cwd, env: cleanEnv({ KEYWARD_STORE: store, KEYWARD_USER: user }), encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function kw(store: string, user: string, args: string[]): string {
  const r = spawnSync(process.execPath, [keywardBin, ...args], { env: cleanEnv({ KEYWARD_STORE: store, KEYWARD_USER: user }), encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.trim();
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', ...args], { cwd, encoding: 'utf8', env: cleanEnv({ GIT_CONFIG_NOSYSTEM: '1', HOME: cwd }) });
}

/** A new store: alice (admin, developer) and bob (developer). */
function aliceAndBob(store: string): void {
  kw(store, 'alice', ['init', '--admin', 'alice']);
  kw(store, 'alice', ['settings', 'set', '--enabled', 'on']);
  kw(store, 'alice', ['users', 'set', 'alice', '--developer', 'on']);
  kw(store, 'alice', ['users', 'add', 'bob', '--licence']);
  kw(store, 'alice', ['users', 'set', 'bob', '--developer', 'on']);
}

/** A token for a real key id with a made-up secret: it passes the checksum but does not authenticate. */
function forged(keyId: string): string {
  const body = `kw_${keyId}_${'a'.repeat(32)}`;
  return body + crc32(body).toString(16).padStart(8, '0');
}

interface Finding {
  path: string;
  line: number;
  column: number;
  keyId: string;
  status: string;
  sub?: string;
}

const json = (r: Result) => JSON.parse(r.stdout) as { data: Finding[]; revoked?: string[]; deleted?: string[]; skipped?: { keyId: string; code: string }[] };

let store: string;
let tokens: { alice: string; aliceOld: string; bob: string };

beforeAll(() => {
  store = join(tempDir('keyward-scan-'), 'keyward.json');
  aliceAndBob(store);
  const alice = kw(store, 'alice', ['keys', 'create', '--description', 'app']);
  const aliceOld = kw(store, 'alice', ['keys', 'create', '--description', 'old']);
  kw(store, 'alice', ['keys', 'revoke', aliceOld.slice(3, 27)]);
  const bob = kw(store, 'bob', ['keys', 'create', '--description', 'bob ci']);
  tokens = { alice, aliceOld, bob };
});

describe('keyward scan', () => {
  it('finds exactly the 100 planted tokens among 10,000 files and 1,000 near-misses, with their key and status', () => {
    const root = tempDir('keyward-scan-tree-');
    const planted = writeTokenTree(root, { files: 10_000, plantCount: 100, nearMisses: 1000, tokens: [tokens.alice, tokens.aliceOld] });
    const r = scan(root, store, 'alice', ['--json']);
    expect(r.code, r.stderr).toBe(1); // alice's active key is among them
    const found = json(r).data;
    expect(found).toHaveLength(100);
    const key = (f: { path: string; line: number; column: number; keyId: string }) => `${f.path}:${f.line}:${f.column}:${f.keyId}`;
    expect(found.map(key).sort()).toEqual(planted.map(key).sort());
    const byKey = new Map(found.map((f) => [f.keyId, f]));
    expect(byKey.get(tokens.alice.slice(3, 27))).toMatchObject({ status: 'active', sub: 'alice' });
    expect(byKey.get(tokens.aliceOld.slice(3, 27))).toMatchObject({ status: 'revoked', sub: 'alice' });
    expect(found.filter((f) => f.status === 'unknown')).toHaveLength(98);
    // Never the token itself, not even its secret part, anywhere in the output.
    for (const t of [tokens.alice, tokens.aliceOld]) {
      expect(r.stdout + r.stderr).not.toContain(t.slice(28, 40));
    }
    expect(r.stderr).toBe(''); // --json: one document on stdout, no notes

    // The same tree as a git work tree (nothing added yet): git's view of it gives the same answer.
    git(root, 'init', '-q');
    const inGit = scan(root, store, 'alice', ['--json']);
    expect(json(inGit).data.map(key).sort()).toEqual(planted.map(key).sort());
  });

  it('honours .gitignore, outside git and inside it, and reports nothing when nothing is found', () => {
    for (const asRepo of [false, true]) {
      const root = tempDir('keyward-scan-ignore-');
      if (asRepo) git(root, 'init', '-q');
      mkdirSync(join(root, 'src/gen'), { recursive: true });
      mkdirSync(join(root, 'logs'));
      writeFileSync(join(root, '.gitignore'), 'logs/\n*.tmp\n');
      writeFileSync(join(root, 'src/.gitignore'), 'gen/\n');
      writeFileSync(join(root, 'logs/out.txt'), tokens.bob);
      writeFileSync(join(root, 'src/x.tmp'), tokens.bob);
      writeFileSync(join(root, 'src/gen/built.js'), tokens.bob);
      writeFileSync(join(root, 'src/ok.js'), `// mentions kw_ only\nconst t = "${forged('0'.repeat(24)).slice(0, -1)}x";\n`);
      const clean = scan(root, store, 'alice', []);
      expect(clean.code, clean.stderr).toBe(0);
      expect(clean.stdout).toBe('');
      expect(clean.stderr).not.toContain('warning'); // outside git the walk is the way, not a fallback
      expect(clean.stderr).toMatch(/^No Keyward tokens in 3 files\.$/m);

      writeFileSync(join(root, 'src/.env'), `\nAPI_TOKEN=${tokens.bob}\n`);
      const r = scan(root, store, 'alice', []);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(new RegExp(`^src/\\.env:2:11 +${tokens.bob.slice(3, 27)} +bob +active$`, 'm'));
      expect(r.stdout).not.toContain('logs/');
      // A file named on the command line is scanned even when ignored.
      expect(json(scan(root, store, 'alice', ['logs/out.txt', '--json'])).data).toMatchObject([{ path: 'logs/out.txt', line: 1, column: 1, status: 'active' }]);
    }
  });

  it("in a work tree where git cannot list the files, scans by the .gitignore files and says so on stderr, made inert", () => {
    const parent = tempDir('keyward-scan-git-fails-');
    const name = 'repo\x1b]0;owned\x07\x1b[2J';
    const root = join(parent, name);
    mkdirSync(join(root, 'logs'), { recursive: true });
    git(root, 'init', '-q');
    writeFileSync(join(root, '.gitignore'), 'logs/\n');
    writeFileSync(join(root, '.git/info/exclude'), 'local.env\n');
    writeFileSync(join(root, 'logs/out.txt'), tokens.bob);
    writeFileSync(join(root, 'local.env'), `API_TOKEN=${tokens.bob}\n`);
    writeFileSync(join(root, 'app.js'), `const t = "${tokens.bob}";\n`);
    git(root, 'add', 'app.js');
    const found = (r: Result) => json(r).data.map((d) => d.path.slice(name.length + 1)).sort();

    // git answers: its list (.git/info/exclude counts), and no warning.
    const ok = scan(parent, store, 'alice', [name, '--json']);
    expect(ok.code, ok.stderr).toBe(1);
    expect(found(ok)).toEqual(['app.js']);
    expect(ok.stderr).not.toContain('warning');

    // A damaged index: git refuses to list, the .gitignore walk runs instead and stderr says why.
    writeFileSync(join(root, '.git/index'), 'not an index');
    const walked = scan(parent, store, 'alice', [name, '--json']);
    expect(walked.code, walked.stderr).toBe(1);
    expect(found(walked)).toEqual(['app.js', 'local.env']);
    expect(walked.stderr).toMatch(/^warning: git could not list the files of repo␛\]0;owned\^G␛\[2J \(fatal: .*index.*\); they were scanned by their \.gitignore files instead/m);
    expect(walked.stderr).not.toMatch(/[\x07\x1b]/);
    // Without --json too: the same warning, and the findings as a table.
    const plain = scan(parent, store, 'alice', [name]);
    expect(plain.stderr).toMatch(/^warning: git could not list the files of /m);
    expect(plain.stdout).toContain('local.env:1:11');
  });

  it('before the very first run (no store at the default location) reports tokens as unknown and creates no store', () => {
    const home = tempDir('keyward-scan-home-');
    const root = tempDir('keyward-scan-nostore-');
    writeFileSync(join(root, 'a.txt'), `x\n${tokens.bob}\n`);
    writeFileSync(join(root, 'b.txt'), 'nothing\n');
    // No KEYWARD_STORE: the default location under HOME and XDG_DATA_HOME, both empty.
    const env = cleanEnv({ HOME: home, XDG_DATA_HOME: join(home, 'data'), KEYWARD_USER: 'alice' });
    const run = (args: string[]) => {
      const r = spawnSync(process.execPath, [keywardBin, 'scan', ...args], { cwd: root, env, encoding: 'utf8' });
      return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
    };
    const plain = run([]);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).toMatch(new RegExp(`^a\\.txt:2:1 +${tokens.bob.slice(3, 27)} +- +unknown$`, 'm'));
    expect(plain.stderr).toContain(`There is no Keyward store at ${join(home, 'data', 'keyward', 'keyward.json')} yet`);
    expect(plain.stderr).toContain('none was created');
    expect(plain.stderr).not.toMatch(/Created a new Keyward store/);
    const asJson = run(['--json', '--revoke']);
    expect(asJson.code).toBe(0);
    expect(json(asJson).data).toEqual([{ path: 'a.txt', line: 2, column: 1, keyId: tokens.bob.slice(3, 27), status: 'unknown' }]);
    expect(run(['b.txt']).stderr).toMatch(/^No Keyward tokens in 1 file\.$/m);
    // One file is "1 file", as above, when a token is found in it too.
    expect(run(['a.txt']).stderr).toMatch(/^1 Keyward token in 1 of 1 file; 0 of a key that is active\.$/m);
    // Nothing was written anywhere: no store, no folder for one.
    expect(readdirSync(home)).toEqual([]);
    expect(existsSync(join(home, '.local'))).toBe(false);
    // A named store that does not exist is still refused, as for every command.
    const named = spawnSync(process.execPath, [keywardBin, 'scan'], { cwd: root, env: { ...env, KEYWARD_STORE: join(home, 'nope.json') }, encoding: 'utf8' });
    expect(named.status).toBe(1);
    expect(named.stderr).toMatch(/There is no Keyward store at .*nope\.json \(from KEYWARD_STORE\).*\(UNAVAILABLE\)/);
    expect(readdirSync(home)).toEqual([]);
  });

  it('shows a non-admin only what they may see of someone else\'s key', () => {
    const root = tempDir('keyward-scan-bob-');
    writeFileSync(join(root, 'a.txt'), `${tokens.alice}\n${tokens.bob}\n`);
    const r = scan(root, store, 'bob', ['--json']);
    expect(r.code).toBe(1);
    expect(json(r).data).toEqual([
      { path: 'a.txt', line: 1, column: 1, keyId: tokens.alice.slice(3, 27), status: 'unknown' },
      { path: 'a.txt', line: 2, column: 1, keyId: tokens.bob.slice(3, 27), status: 'active', sub: 'bob' },
    ]);
  });

  it('--staged reads the git index, not the working tree', () => {
    const root = tempDir('keyward-scan-staged-');
    git(root, 'init', '-q');
    writeFileSync(join(root, 'README'), 'hello\n');
    git(root, 'add', 'README');
    git(root, 'commit', '-q', '-m', 'first');
    mkdirSync(join(root, 'app'));
    // Staged with a token, then taken out of the working copy only: the commit would still carry it.
    writeFileSync(join(root, 'app/config.js'), `module.exports = {\n  token: '${tokens.bob}',\n};\n`);
    git(root, 'add', 'app/config.js');
    writeFileSync(join(root, 'app/config.js'), 'module.exports = {};\n');
    // In the working tree but not staged: not part of the commit.
    writeFileSync(join(root, 'notes.txt'), tokens.alice);
    const r = scan(join(root, 'app'), store, 'alice', ['--staged', '--json']);
    expect(r.code, r.stderr).toBe(1);
    expect(json(r).data).toEqual([{ path: 'config.js', line: 2, column: 11, keyId: tokens.bob.slice(3, 27), status: 'active', sub: 'bob' }]);
    const tree = scan(root, store, 'alice', ['--json']);
    expect(json(tree).data.map((f) => f.path)).toEqual(['notes.txt']);

    const outside = scan(tempDir(), store, 'alice', ['--staged']);
    expect(outside.code).toBe(1);
    expect(outside.stderr).toMatch(/--staged needs a git work tree.*\(INVALID_INPUT\)/);
  });

  it('--revoke deletes your own active keys, revokes others\' as an admin, and leaves a forged token\'s key alone', () => {
    const s = join(tempDir('keyward-scan-revoke-'), 'keyward.json');
    aliceAndBob(s);
    const mine = kw(s, 'alice', ['keys', 'create', '--description', 'mine']);
    const bobs = kw(s, 'bob', ['keys', 'create', '--description', 'bobs']);
    const victim = kw(s, 'bob', ['keys', 'create', '--description', 'victim']);
    const root = tempDir('keyward-scan-revoke-tree-');
    writeFileSync(join(root, 'leak.env'), `A=${mine}\nB=${bobs}\nC=${forged(victim.slice(3, 27))}\n`);
    const r = scan(root, s, 'alice', ['--revoke', '--json']);
    expect(r.code).toBe(1);
    const out = json(r);
    expect(out.deleted).toEqual([mine.slice(3, 27)]);
    expect(out.revoked).toEqual([bobs.slice(3, 27)]);
    expect(out.skipped).toMatchObject([{ keyId: victim.slice(3, 27), code: 'UNAUTHENTICATED' }]);
    const after = json(scan(root, s, 'alice', ['--json'])).data.map((f) => f.status);
    expect(after).toEqual(['unknown', 'revoked', 'active']);
  });

  it('blocks a commit through the README\'s one-line pre-commit hook', () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const hookLine = /^printf .*pre-commit.*$/m.exec(readme)?.[0];
    expect(hookLine).toBeDefined();
    const root = tempDir('keyward-scan-hook-');
    const bin = join(root, '.bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'keyward'), `#!/bin/sh\nexec "${process.execPath}" "${keywardBin}" "$@"\n`);
    chmodSync(join(bin, 'keyward'), 0o755);
    const repo = join(root, 'repo');
    mkdirSync(repo);
    git(repo, 'init', '-q');
    execFileSync('sh', ['-c', hookLine!], { cwd: repo });
    const env = cleanEnv({ KEYWARD_STORE: store, KEYWARD_USER: 'alice', PATH: `${bin}:${process.env.PATH}`, HOME: root, GIT_CONFIG_NOSYSTEM: '1' });
    const commit = () => spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'commit', '-q', '-m', 'x'], { cwd: repo, env, encoding: 'utf8' });
    writeFileSync(join(repo, 'deploy.sh'), `curl -H "Authorization: Bearer ${tokens.bob}" …\n`);
    git(repo, 'add', 'deploy.sh');
    const blocked = commit();
    expect(blocked.status).not.toBe(0);
    expect(blocked.stderr).toContain('deploy.sh:1:');
    expect(blocked.stderr).not.toContain(tokens.bob.slice(28, 60));
    writeFileSync(join(repo, 'deploy.sh'), 'curl -H "Authorization: Bearer $KEYWARD_TOKEN" …\n');
    git(repo, 'add', 'deploy.sh');
    const ok = commit();
    expect(ok.status, ok.stderr).toBe(0);
  });
});
