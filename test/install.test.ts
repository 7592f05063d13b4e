// `keyward` installs as a command, the way README.md says: pack the built
// package, `npm install -g` the tarball (here into a temporary prefix), and
// the `keyward` on that prefix's PATH runs — subcommands, a store of its own
// and the server, with nothing from this checkout on its module path.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanEnv, repoRoot, tempDir } from './support/keyward.js';

describe('keyward installed from a packed tarball', () => {
  it('runs keyward --help, --version, a first flow and keyward serve from the installed command', { timeout: 300_000 }, async () => {
    const dir = tempDir('keyward-install-');
    execFileSync('npm', ['pack', '--pack-destination', dir, join(repoRoot, 'packages/cli')], { stdio: 'pipe' });
    const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'))!;
    expect(tarball).toMatch(/^keyward-cli-.*\.tgz$/);
    const prefix = join(dir, 'prefix');
    // npm fetches the package's dependencies from the registry. A connection
    // that hangs there once stalled the whole suite for 18 minutes: npm gives
    // up on a silent fetch after 30 s and tries again, and the call as a whole
    // is bounded, since a synchronous call cannot be stopped by vitest's timeout.
    const npmFetch = ['--fetch-timeout', '30000', '--fetch-retries', '4'];
    execFileSync('npm', ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', ...npmFetch, join(dir, tarball)], {
      cwd: dir,
      stdio: 'pipe',
      timeout: 240_000,
    });

    // Only the prefix's bin and node itself on PATH; HOME elsewhere, run from elsewhere.
    const home = tempDir('keyward-install-home-');
    const env = cleanEnv({ HOME: home, PATH: `${join(prefix, 'bin')}:${join(process.execPath, '..')}:/usr/bin:/bin` });
    const run = (...args: string[]) => execFileSync('keyward', args, { env, cwd: home, encoding: 'utf8' });
    expect(run('--help')).toMatch(/^Keyward — API keys/);
    // The installed package's own version: meow finds its package.json beside dist/.
    const { version } = JSON.parse(readFileSync(join(repoRoot, 'packages/cli/package.json'), 'utf8')) as { version: string };
    expect(run('--version')).toBe(`${version}\n`);
    const store = join(home, 'acme.json');
    run('init', '--store', store, '--tenant', 'Acme', '--admin', 'alice');
    run('--store', store, '--as', 'alice', 'settings', 'set', '--enabled', 'on');
    run('--store', store, '--as', 'alice', 'users', 'set', 'alice', '--developer', 'on');
    const token = run('--store', store, '--as', 'alice', 'keys', 'create', '--description', 'installed').trim();
    expect(token).toMatch(/^kw_[0-9a-f]{24}_/);

    const server = spawn('keyward', ['serve', '--port', '0', '--store', store], { env, cwd: home });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let err = '';
        server.stderr.on('data', (d: Buffer) => {
          err += d;
          const m = /listening on (http:\/\/\S+) /.exec(err);
          if (m) resolve(m[1]);
        });
        server.on('exit', (code) => reject(new Error(`keyward serve exited ${code}: ${err}`)));
      });
      const me = await fetch(`${url}/api/v1/users/me`, { headers: { authorization: `Bearer ${token}` } });
      expect(me.status).toBe(200);
      expect(((await me.json()) as { name: string }).name).toBe('alice');
    } finally {
      server.kill('SIGTERM');
    }
  });
});
