// The terminal UI over SSH, as an admin reaches a server: a real OpenSSH
// server on loopback (its own host key, an authorized key made here), the
// real `ssh -tt` client in a real pty, and `keyward` running on the far side.
// OSC 52 is the only way a copy can reach the user's machine from there, and
// a dropped connection (SIGHUP) must not leave `keyward` running.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { keyward, keywardBin, repoRoot, tempDir } from './support/keyward.js';
import { skippedWhereMissing } from './support/needed-here.js';
import { ALT_OFF, ALT_ON, Session, killSessions } from './support/pty-session.js';

const SSHD = '/usr/sbin/sshd';
const which = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).stdout.trim();
const SSH = which('ssh');
const missing = [!existsSync(SSHD) && SSHD, !SSH && 'ssh', !which('ssh-keygen') && 'ssh-keygen'].filter(Boolean);

let dir = '';
let port = 0;
let sshd: ChildProcess | undefined;
let sshdLog = '';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port: p } = srv.address() as { port: number };
      srv.close(() => resolve(p));
    });
  });
}

async function accepts(p: number, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const sock = connect(p, '127.0.0.1', () => {
        sock.destroy();
        resolve(true);
      });
      sock.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`sshd never accepted on port ${p}:\n${sshdLog}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function keygen(file: string): void {
  const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'keyward-test', '-f', file], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
}

function newStore(): string {
  const store = join(tempDir('keyward-tui-ssh-'), 'keyward.json');
  stores.push(store);
  const env = { KEYWARD_STORE: store, KEYWARD_USER: 'alice' };
  for (const args of [
    ['init', '--tenant', 'Acme', '--admin', 'alice'],
    ['settings', 'set', '--enabled', 'on'],
    ['users', 'set', 'alice', '--developer', 'on'],
  ]) {
    const r = keyward(args, env);
    expect(r.code, r.stderr).toBe(0);
  }
  return store;
}

function createKey(store: string, description: string): string {
  const r = keyward(['keys', 'create', '--description', description, '--json'], { KEYWARD_STORE: store, KEYWARD_USER: 'alice' });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout).id as string;
}

/** `keyward` on the far side of `ssh -tt`, given its store and user in the environment as a login would. */
function overSsh(store: string): Session {
  const remote = `cd ${repoRoot} && KEYWARD_STORE=${store} KEYWARD_USER=alice TZ=UTC TERM=xterm-256color ${process.execPath} ${keywardBin}`;
  return new Session(
    ['-tt', '-i', join(dir, 'client_key'), '-p', String(port), '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', '-o', 'BatchMode=yes', 'root@127.0.0.1', remote],
    {},
    { cols: 100, rows: 30 },
    SSH,
  );
}

/**
 * The remote processes given this store: found by their environment, since
 * `keyward` sets its process title (so `pgrep -f` no longer sees its
 * arguments) and the local ssh client's command line names the store too.
 */
function running(store: string): number[] {
  const mark = `\0KEYWARD_STORE=${store}\0`;
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (`\0${readFileSync(`/proc/${entry}/environ`, 'latin1')}`.includes(mark)) pids.push(Number(entry));
    } catch {
      // gone meanwhile, or a zombie
    }
  }
  return pids;
}

async function noneRunning(store: string, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  for (let left = running(store); left.length; left = running(store)) {
    if (Date.now() > until) {
      for (const pid of left) process.kill(pid, 'SIGKILL');
      throw new Error(`keyward still running (pids ${left.join(', ')}) after the session ended`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

const stores: string[] = [];

afterEach(() => {
  killSessions();
  // A remote keyward a failed test left behind must not outlive it.
  for (const store of stores.splice(0)) for (const pid of running(store)) process.kill(pid, 'SIGKILL');
});

describe.skipIf(skippedWhereMissing(missing.length > 0))(`the terminal UI over ssh -tt to a loopback OpenSSH server${missing.length ? ` (${missing.join(', ')} not installed: apt-get install openssh-server openssh-client)` : ''}`, () => {
  beforeAll(async () => {
    expect(() => readFileSync(keywardBin), 'build keyward first: node scripts/build.mjs').not.toThrow();
    dir = tempDir('keyward-sshd-');
    keygen(join(dir, 'host_key'));
    keygen(join(dir, 'client_key'));
    writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'client_key.pub')), { mode: 0o600 });
    port = await freePort();
    writeFileSync(
      join(dir, 'sshd_config'),
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${join(dir, 'host_key')}`,
        `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PubkeyAuthentication yes',
        'StrictModes no',
        'UsePAM no',
        `PidFile ${join(dir, 'sshd.pid')}`,
        'PermitRootLogin yes',
        'PrintMotd no',
        'PrintLastLog no',
        '',
      ].join('\n'),
    );
    // sshd refuses to start without its privilege-separation directory.
    mkdirSync('/run/sshd', { recursive: true });
    sshd = spawn(SSHD, ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', 'pipe', 'pipe'] });
    sshd.stdout!.on('data', (d: Buffer) => (sshdLog += d));
    sshd.stderr!.on('data', (d: Buffer) => (sshdLog += d));
    await accepts(port);
  });

  afterAll(async () => {
    if (sshd && sshd.exitCode === null) {
      const gone = new Promise((r) => sshd!.once('exit', r));
      sshd.kill('SIGTERM');
      await gone;
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('draws Keys and My keys, and a copied key id reaches the client as OSC 52; a dropped connection ends the remote keyward', async () => {
    const store = newStore();
    const id = createKey(store, 'over ssh');
    const s = overSsh(store);
    await s.waitFor('1 Keys', 30_000).catch((e) => {
      throw new Error(`${e.message}\nsshd says:\n${sshdLog}`);
    });
    expect(s.alternate).toBe(true);
    // The frame arrives in pieces over the network: wait for the whole of it.
    await s.waitFor((screen) => screen.includes('alice (TenantAdmin, Developer)') && screen.includes('over ssh'));

    s.press('5');
    await s.waitFor('My keys  1/1 key');
    s.press('c');
    await s.rawIncludes(`\u001b]52;c;${Buffer.from(id).toString('base64')}\u0007`);
    await s.waitFor('copied via OSC 52');

    // keyward is running on the far side, found by its store.
    expect(running(store)).toHaveLength(1);

    // The connection drops: the client dies, sshd closes the remote pty, and keyward gets SIGHUP.
    s.proc.kill('SIGHUP');
    await s.exit;
    await noneRunning(store);
  });

  it('gives the client its terminal back when the remote keyward gets SIGHUP', async () => {
    const store = newStore();
    const s = overSsh(store);
    await s.waitFor('1 Keys', 30_000);
    const [pid, ...others] = running(store);
    expect(others).toEqual([]);
    process.kill(pid, 'SIGHUP');
    await s.exit;
    // What keyward wrote on its way out crossed the connection before it closed.
    await s.expectRestored();
    await noneRunning(store);
  });

  it('gives the client its terminal back on q', async () => {
    const store = newStore();
    const s = overSsh(store);
    await s.waitFor('1 Keys', 30_000);
    expect(s.raw).toContain(ALT_ON);
    s.press('q');
    expect((await s.exit).exitCode).toBe(0);
    await s.expectRestored();
    expect(s.raw.lastIndexOf(ALT_OFF)).toBeGreaterThan(s.raw.lastIndexOf(ALT_ON));
    await noneRunning(store);
  });
});
