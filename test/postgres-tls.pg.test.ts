// Keyward on a PostgreSQL reached over TLS, named as libpq names it
// (`?sslmode=require`, `?sslmode=verify-full&sslrootcert=…`), as a managed
// database (RDS, Cloud SQL, Azure) is. A server of this file's own speaks TLS
// only (pg_hba.conf: hostssl, and hostnossl … reject), so whatever gets in
// used TLS; its certificate is signed by a CA made here (tls-certs.ts). The
// project's own server, without TLS, is where prefer and allow go on in
// plain text.
// Real `keyward` processes throughout, and a `keyward serve` whose change
// feed (LISTEN) must hear a revoke over TLS.

import { chmodSync, chownSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from './support/http.js';
import { codeOf, keyward, refusalOf, tempDir } from './support/keyward.js';
import { admin, createTestDatabase, withDatabase } from './support/postgres.js';
import { type PostgresProcess, spawnPostgres } from './support/postgres-process.js';
import { startServe, stopServe } from './support/serve.js';
import { type Authority, type Issued, makeAuthority } from './support/tls-certs.js';

const PASSWORD = 'keyward-test';

let server: PostgresProcess | undefined;
let dir: string;
let caFile: string;
let wrongCaFile: string;
let serverCert: Issued;
let authority: Authority;
const databases: string[] = [];

beforeAll(async () => {
  dir = tempDir('keyward-tls-');
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const ca = (authority = makeAuthority('Keyward test CA'));
  const cert = ca.issue('localhost', ['localhost', '127.0.0.1']);
  serverCert = cert;
  caFile = file('ca.pem', ca.cert);
  // Another authority, which did not sign the server's certificate.
  wrongCaFile = file('wrong-ca.pem', makeAuthority('Some other CA').cert);
  server = await spawnPostgres({ certFile: file('server.crt', cert.cert), keyFile: file('server.key', cert.key) });
});
afterAll(async () => {
  if (server) {
    const verified = `${server.url}?sslmode=verify-full&sslrootcert=${caFile}`;
    await admin(verified, async (c) => {
      for (const d of databases) await c.query(`DROP DATABASE IF EXISTS ${d} WITH (FORCE)`);
    }).catch(() => undefined);
    await server.stop();
  }
  rmSync(dir, { recursive: true, force: true });
});

/** A fresh database on the TLS server; its URL with `params` (sslmode and the like) appended. */
async function database(params: string): Promise<string> {
  const name = `keyward_tls_${databases.length}`;
  databases.push(name);
  await admin(`${server!.url}?sslmode=verify-full&sslrootcert=${caFile}`, (c) => c.query(`CREATE DATABASE ${name}`));
  return `${withDatabase(server!.url, name)}?${params}`;
}

const as = (store: string, user: string, args: string[]) => keyward(args, { KEYWARD_STORE: store, KEYWARD_USER: user });

/** `keyward init` on the store at `url` (no password, no warning printed), keys on, alice an admin and developer. */
function initialised(url: string): void {
  const init = keyward(['init', '--store', url, '--admin', 'alice'], {});
  expect(init.code, init.stderr).toBe(0);
  expect(init.stdout + init.stderr).not.toContain(PASSWORD);
  expect(init.stderr).not.toMatch(/warning/i);
  expect(as(url, 'alice', ['settings', 'set', '--enabled', 'on']).code).toBe(0);
  expect(as(url, 'alice', ['users', 'set', 'alice', '--developer', 'on']).code).toBe(0);
}

/**
 * The store at `url` initialised, a key made and one revoked through
 * the command while a `keyward serve` on it answers: the revoke is heard
 * (the server's LISTEN connection works) and the other key still answers.
 * What it gives back: whether the server's own connections (its pool and its
 * LISTEN client, which it opens on its own time) use TLS, each value once, as
 * the database at `adminUrl` (the same, named for node-postgres) sees them.
 */
async function servedAndRevoked(url: string, adminUrl = url): Promise<boolean[]> {
  initialised(url);
  const token = as(url, 'alice', ['keys', 'create', '--description', 'stays']).stdout.trim();
  const revokeMe = JSON.parse(as(url, 'alice', ['keys', 'create', '--description', 'revoke me', '--json']).stdout) as { id: string; token: string };

  const serve = await startServe(url);
  try {
    expect((await call(`${serve.url}/api/v1/users/me`, token)).status).toBe(200);
    expect((await call(`${serve.url}/api/v1/users/me`, revokeMe.token)).status).toBe(200);
    const name = new URL(url).pathname.slice(1);
    const connections = () =>
      admin(adminUrl, (c) =>
        c.query<{ application_name: string; ssl: boolean }>(
          `SELECT a.application_name, s.ssl FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) WHERE a.datname = $1 AND a.pid <> pg_backend_pid()`,
          [name],
        ),
      ).then((r) => r.rows);
    let seen = await connections();
    while (!seen.some((r) => r.application_name === 'keyward-listen')) {
      await new Promise((r) => setTimeout(r, 50));
      seen = await connections();
    }
    expect(seen.map((r) => r.application_name)).toContain('keyward');

    const revoked = as(url, 'alice', ['keys', 'revoke', revokeMe.id]);
    expect(revoked.code, revoked.stderr).toBe(0);
    // Refused once the server heard of it. How soon (a second: behaviour §4) is scale-out.pg.test.ts's to
    // hold; this proves only that it is heard on this URL, and is bounded by the test's timeout, not a clock.
    for (;;) {
      const a = await call(`${serve.url}/api/v1/users/me`, revokeMe.token);
      if (a.status === 401) break;
      expect(a.status).toBe(200);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect((await call(`${serve.url}/api/v1/users/me`, token)).status).toBe(200);
    return [...new Set(seen.map((r) => r.ssl))];
  } finally {
    // Gone before the caller goes on (a database it still holds cannot be dropped cleanly).
    await stopServe(serve.child);
  }
}

/**
 * Gives the TLS server `cert` and has it take it (pg_reload_conf), asked over a connection `trusting` that CA
 * file — with the host name checked unless `anyHost` (its certificate now is for another host).
 */
async function serverCertificate(cert: { cert: string; key: string }, trusting: string, anyHost = false): Promise<void> {
  const mode = anyHost ? 'uselibpqcompat=true&sslmode=verify-ca' : 'sslmode=verify-full';
  await admin(`${server!.url}?${mode}&sslrootcert=${trusting}`, async (c) => {
    const dataDir = (await c.query<{ data_directory: string }>('SHOW data_directory')).rows[0].data_directory;
    for (const [file, text, mode] of [['server.crt', cert.cert, 0o644], ['server.key', cert.key, 0o600]] as const) {
      const path = join(dataDir, file);
      // As the files it replaces: PostgreSQL refuses a key others may read, or one another user owns.
      const { uid, gid } = statSync(path);
      writeFileSync(path, text);
      chmodSync(path, mode);
      chownSync(path, uid, gid);
    }
    await c.query('SELECT pg_reload_conf()');
  });
}

describe('a PostgreSQL store over TLS, named by libpq URL parameters', () => {
  it("a URL without sslmode: libpq's default, prefer — encrypted on this server that takes TLS only (the command and keyward serve), as psql would be", async () => {
    const url = await database('application_name=keyward-default');
    expect(await servedAndRevoked(url, `${url}&sslmode=verify-full&sslrootcert=${caFile}`)).toEqual([true]);
  });

  it('sslmode=disable on it: refused, UNAVAILABLE, saying it takes TLS only, no stack trace, no password', async () => {
    const url = await database('sslmode=disable');
    for (const json of [false, true]) {
      const r = keyward(['init', '--store', url, '--admin', 'alice', ...(json ? ['--json'] : [])], {});
      expect(r.code).toBe(1);
      const said = refusalOf(r, json);
      expect(said.code).toBe('UNAVAILABLE');
      expect(said.message).toMatch(/refused the connection.*no encryption/);
      expect(r.stdout + r.stderr).not.toContain(PASSWORD);
      expect(r.stdout + r.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('sslmode=require as libpq means it (encrypted, the certificate not checked): init, a key made and verified, no warning printed', async () => {
    const url = await database('sslmode=require');
    initialised(url);
    const made = as(url, 'alice', ['keys', 'create', '--description', 'over TLS']);
    expect(made.code, made.stderr).toBe(0);
    const verified = keyward(['keys', 'verify', made.stdout.trim()], { KEYWARD_STORE: url, KEYWARD_USER: 'nobody' });
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stderr).not.toMatch(/warning/i);
  });

  it('sslmode=verify-full with the CA that signed the server: keyward serve listens over TLS, and refuses a key revoked through the command', async () => {
    const url = await database(`sslmode=verify-full&sslrootcert=${caFile}`);
    // Every connection over TLS (pg_hba.conf would have refused any other).
    expect(await servedAndRevoked(url)).toEqual([true]);
  });

  it('sslmode=prefer and sslmode=allow, on this server that takes TLS only: encrypted, as libpq would be (the command and keyward serve)', async () => {
    for (const mode of ['prefer', 'allow']) {
      const url = await database(`sslmode=${mode}`);
      expect(await servedAndRevoked(url, url.replace(`sslmode=${mode}`, `sslmode=verify-full&sslrootcert=${caFile}`)), mode).toEqual([true]);
    }
  });

  it('sslmode=prefer and sslmode=allow, on a server without TLS: in plain text, as libpq goes on (node-postgres alone ends the connection)', async () => {
    for (const mode of ['prefer', 'allow']) {
      const plain = await createTestDatabase();
      try {
        // The project's server has no TLS, unless KEYWARD_TEST_PG_URL names one that has: then it is used.
        const tls = (await admin(plain.url, (c) => c.query<{ ssl: string }>('SHOW ssl'))).rows[0].ssl === 'on';
        expect(await servedAndRevoked(`${plain.url}?sslmode=${mode}`, plain.url), mode).toEqual([tls]);
        // sslmode=require there is still refused, saying why.
        const r = keyward(['keys', 'ls'], { KEYWARD_STORE: `${plain.url}?sslmode=require`, KEYWARD_USER: 'alice' });
        if (!tls) {
          expect(r.code).toBe(1);
          expect(codeOf(r)).toBe('UNAVAILABLE');
          expect(r.stderr).toMatch(/SSL|TLS/);
          expect(r.stderr).not.toMatch(/\n\s+at /);
        }
      } finally {
        await plain.drop();
      }
    }
  });

  it('a CA file renewed in place while keyward serve runs (with the database certificate it signs): the connections it opens after use the file as it is then, no restart', async () => {
    const renewing = join(dir, 'renewing-ca.pem');
    writeFileSync(renewing, readFileSync(caFile));
    const url = await database(`sslmode=verify-full&sslrootcert=${renewing}`);
    const name = new URL(url).pathname.slice(1);
    initialised(url);
    const token = as(url, 'alice', ['keys', 'create', '--description', 'through a renewal']).stdout.trim();
    const serve = await startServe(url);
    const next = makeAuthority('Keyward test CA, renewed');
    const nextCa = join(dir, 'next-ca.pem');
    writeFileSync(nextCa, next.cert);
    const listeners = () =>
      admin(`${server!.url}?sslmode=verify-full&sslrootcert=${nextCa}`, (c) =>
        c.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = 'keyward-listen'`, [name]),
      ).then((r) => r.rows.map((row) => row.pid));
    try {
      expect((await call(`${serve.url}/api/v1/users/me`, token)).status).toBe(200);
      // The server's certificate is now one the renewed CA signed (PostgreSQL takes its TLS files again on
      // a reload), and the CA file says so; then every connection of keyward serve's is ended, as a
      // database restart would. Only connections that read the file again can be made again.
      await serverCertificate(next.issue('localhost', ['localhost', '127.0.0.1']), caFile);
      writeFileSync(renewing, next.cert);
      const before = await listeners();
      await admin(`${server!.url}?sslmode=verify-full&sslrootcert=${nextCa}`, (c) =>
        c.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name IN ('keyward', 'keyward-listen')`, [name]),
      );
      // Its LISTEN client connects again (bounded by the test's timeout: with the file's old text, never).
      for (let now = await listeners(); now.length === 0 || now.some((pid) => before.includes(pid)); now = await listeners()) {
        await new Promise((r) => setTimeout(r, 100));
      }
      // And its pool: answered again (503 while it could not connect).
      for (let a = await call(`${serve.url}/api/v1/users/me`, token); a.status !== 200; a = await call(`${serve.url}/api/v1/users/me`, token)) {
        expect(a.status).toBe(503);
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      await stopServe(serve.child);
      // The first certificate back for the tests after this one (asked trusting the renewed CA: if the test
      // failed before renewing, the first is still there and nothing is to be done).
      await serverCertificate(serverCert, nextCa).catch(() => undefined);
    }
  });

  it('sslmode=verify-full with a CA that did not sign the server: the command and keyward serve refused, UNAVAILABLE, saying why, no stack trace, no password', async () => {
    const url = await database(`sslmode=verify-full&sslrootcert=${wrongCaFile}`);
    for (const json of [false, true]) {
      const r = keyward(['init', '--store', url, '--admin', 'alice', ...(json ? ['--json'] : [])], {});
      expect(r.code).toBe(1);
      const said = refusalOf(r, json);
      expect(said.code).toBe('UNAVAILABLE');
      expect(said.message).toMatch(/TLS certificate.*(sslrootcert)/);
      expect(r.stdout + r.stderr).not.toContain(PASSWORD);
      expect(r.stdout + r.stderr).not.toMatch(/\n\s+at /);
    }
    // A `keyward serve` on it does not start serving: it says why and ends (spawnSync's timeout ends one that serves).
    const serve = keyward(['serve', '--port', '0', '--store', url], { KEYWARD_USER: 'alice' });
    expect(serve.code, serve.stderr).toBe(1);
    expect(codeOf(serve)).toBe('UNAVAILABLE');
    expect(serve.stderr).toMatch(/TLS certificate.*(sslrootcert)/);
    expect(serve.stdout + serve.stderr).not.toContain(PASSWORD);
    expect(serve.stderr).not.toMatch(/\n\s+at /);
    // Nothing was made: the database holds no Keyward schema.
    const schemas = await admin(url.replace(wrongCaFile, caFile), (c) => c.query(`SELECT 1 FROM pg_namespace WHERE nspname = 'keyward'`));
    expect(schemas.rowCount).toBe(0);
  });

  it('a certificate the right CA signed for another host: verify-full refused (the host name), verify-ca and require take it, as libpq does', async () => {
    const name = await database('sslmode=require');
    const url = (mode: string) => name.replace('sslmode=require', `sslmode=${mode}&sslrootcert=${caFile}`);
    initialised(url('verify-full'));
    // A managed database reached by its address, or through a tunnel: its certificate names its own host name only.
    await serverCertificate(authority.issue('db.example.internal', ['db.example.internal']), caFile);
    try {
      for (const json of [false, true]) {
        const r = keyward(['keys', 'ls', ...(json ? ['--json'] : [])], { KEYWARD_STORE: url('verify-full'), KEYWARD_USER: 'alice' });
        expect(r.code).toBe(1);
        const said = refusalOf(r, json);
        expect(said.code).toBe('UNAVAILABLE');
        expect(said.message).toMatch(/TLS certificate for another host name \(.*altnames.*\): .*sslmode=verify-ca/);
        expect(r.stdout + r.stderr).not.toContain(PASSWORD);
        expect(r.stdout + r.stderr).not.toMatch(/\n\s+at /);
      }
      // verify-ca checks the CA only: a key made, and verified by another process.
      const made = as(url('verify-ca'), 'alice', ['keys', 'create', '--description', 'CA checked, host not']);
      expect(made.code, made.stderr).toBe(0);
      const verified = keyward(['keys', 'verify', made.stdout.trim()], { KEYWARD_STORE: url('verify-ca'), KEYWARD_USER: 'nobody' });
      expect(verified.code, verified.stderr).toBe(0);
      // require with sslrootcert is verify-ca (libpq's rule); without, the certificate is not checked.
      for (const store of [url('require'), name]) expect(as(store, 'alice', ['keys', 'ls']).code, store).toBe(0);
      // verify-ca still refuses a certificate another CA signed.
      const wrong = keyward(['keys', 'ls'], { KEYWARD_STORE: url('verify-ca').replace(caFile, wrongCaFile), KEYWARD_USER: 'alice' });
      expect([wrong.code, codeOf(wrong)]).toEqual([1, 'UNAVAILABLE']);
      expect(wrong.stderr).toMatch(/TLS certificate that was not accepted/);
    } finally {
      await serverCertificate(serverCert, caFile, true);
    }
  });

  it("PGSSLMODE and PGSSLROOTCERT, libpq's environment, for a URL that names neither: each meaning what it means in a URL", async () => {
    const url = await database('application_name=keyward-from-env');
    const env = (vars: Record<string, string>) => ({ KEYWARD_STORE: url, KEYWARD_USER: 'alice', ...vars });
    const init = keyward(['init', '--admin', 'alice'], env({ PGSSLMODE: 'verify-full', PGSSLROOTCERT: caFile }));
    expect(init.code, init.stderr).toBe(0);
    // require: encrypted, the certificate not checked (node-postgres alone took it for verify-full against Node's CAs, and refused this server).
    const required = keyward(['keys', 'ls'], env({ PGSSLMODE: 'require' }));
    expect(required.code, required.stderr).toBe(0);
    expect(required.stderr).not.toMatch(/warning/i);
    // verify-full against a CA that did not sign the server: refused, saying why.
    const wrong = keyward(['keys', 'ls'], env({ PGSSLMODE: 'verify-full', PGSSLROOTCERT: wrongCaFile }));
    expect([wrong.code, codeOf(wrong)]).toEqual([1, 'UNAVAILABLE']);
    expect(wrong.stderr).toMatch(/TLS certificate that was not accepted/);
    // The URL's own sslmode wins: disable, on this server that takes TLS only, is refused by it.
    const disabled = keyward(['keys', 'ls'], env({ KEYWARD_STORE: `${url}&sslmode=disable`, PGSSLMODE: 'require' }));
    expect([disabled.code, codeOf(disabled)]).toEqual([1, 'UNAVAILABLE']);
    expect(disabled.stderr).toMatch(/no encryption/);
  });

  it("sslrootcert=system: the CAs Node trusts (NODE_EXTRA_CA_CERTS among them), verify-full by default; a weaker sslmode refused, as libpq does", async () => {
    const url = await database('sslrootcert=system');
    // This server's CA is not one Node trusts: refused, saying why.
    const untrusted = keyward(['init', '--store', url, '--admin', 'alice'], {});
    expect([untrusted.code, codeOf(untrusted)]).toEqual([1, 'UNAVAILABLE']);
    expect(untrusted.stderr).toMatch(/TLS certificate that was not accepted/);
    // Trusted by Node (as a public CA would be): taken.
    const trusted = keyward(['init', '--store', url, '--admin', 'alice'], { NODE_EXTRA_CA_CERTS: caFile });
    expect(trusted.code, trusted.stderr).toBe(0);
    const weaker = keyward(['keys', 'ls'], { KEYWARD_STORE: `${url}&sslmode=require`, KEYWARD_USER: 'alice', NODE_EXTRA_CA_CERTS: caFile });
    expect([weaker.code, codeOf(weaker)]).toEqual([1, 'INVALID_INPUT']);
    expect(weaker.stderr).toContain('sslrootcert=system needs sslmode=verify-full');
    expect(weaker.stderr).not.toContain(PASSWORD);
  });

  it("sslcrl, sslcrldir and PGSSLCRL: the database's certificate refused once its CA's list revokes it (the command and keyward serve), taken while the list does not; unchecked with require, as in libpq", async () => {
    const url = await database(`sslmode=verify-full&sslrootcert=${caFile}`);
    initialised(url);
    const list = (name: string, text: string) => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    };
    const current = list('current.crl', authority.revocationList([]));
    const revoking = list('revoking.crl', authority.revocationList([authority.issue('localhost', ['localhost']), serverCert]));
    const ls = (store: string, env: Record<string, string> = {}) => keyward(['keys', 'ls'], { KEYWARD_STORE: store, KEYWARD_USER: 'alice', ...env });
    const refusedAsRevoked = (r: ReturnType<typeof keyward>) => {
      expect([r.code, codeOf(r)], r.stderr).toEqual([1, 'UNAVAILABLE']);
      expect(r.stderr).toMatch(/TLS certificate that its CA has revoked/);
      expect(r.stdout + r.stderr).not.toContain(PASSWORD);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    };
    // A list that revokes other certificates of the CA: taken.
    expect(ls(`${url}&sslcrl=${current}`).code).toBe(0);
    expect(ls(`${url}&sslcrl=${list('others.crl', authority.revocationList([authority.issue('localhost', ['localhost'])]))}`).code).toBe(0);
    // One that revokes the database's own certificate: refused, by file, by directory, and from the environment.
    refusedAsRevoked(ls(`${url}&sslcrl=${revoking}`));
    const lists = join(dir, 'crls');
    mkdirSync(lists);
    writeFileSync(join(lists, 'a.r0'), authority.revocationList([serverCert]));
    refusedAsRevoked(ls(`${url}&sslcrldir=${lists}`));
    refusedAsRevoked(ls(url, { PGSSLCRL: revoking }));
    // The URL's own list wins over the environment's, as for every parameter.
    expect(ls(`${url}&sslcrl=${current}`, { PGSSLCRL: revoking }).code).toBe(0);
    // require without sslrootcert checks no certificate, so no list either (libpq's rule).
    expect(ls(url.replace(`sslmode=verify-full&sslrootcert=${caFile}`, `sslmode=require&sslcrl=${revoking}`)).code).toBe(0);
    // Only another CA's list: this CA's certificates cannot be checked, and are refused (OpenSSL's CRL_CHECK_ALL, as libpq sets).
    const unknown = ls(`${url}&sslcrl=${list('other-ca.crl', makeAuthority('Some other CA').revocationList([]))}`);
    expect([unknown.code, codeOf(unknown)]).toEqual([1, 'UNAVAILABLE']);
    expect(unknown.stderr).toMatch(/TLS certificate whose revocation cannot be checked .*sslcrl/);

    // keyward serve: refused at the start with the revoking list.
    const serve = keyward(['serve', '--port', '0', '--store', `${url}&sslcrl=${revoking}`], { KEYWARD_USER: 'alice' });
    expect([serve.code, codeOf(serve)], serve.stderr).toEqual([1, 'UNAVAILABLE']);
    expect(serve.stderr).toMatch(/TLS certificate that its CA has revoked/);
    // A list renewed in place while it serves: the connections it opens after read it as it is then.
    const renewed = list('renewed.crl', authority.revocationList([]));
    const token = as(url, 'alice', ['keys', 'create', '--description', 'through a new list']).stdout.trim();
    const running = await startServe(`${url}&sslcrl=${renewed}`);
    const name = new URL(url).pathname.slice(1);
    const endItsConnections = () =>
      admin(url, (c) => c.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name IN ('keyward', 'keyward-listen')`, [name]));
    try {
      expect((await call(`${running.url}/api/v1/users/me`, token)).status).toBe(200);
      writeFileSync(renewed, authority.revocationList([serverCert]));
      await endItsConnections();
      // Its pool cannot connect again: 503 UNAVAILABLE (bounded by the test's timeout: with the list's old text, 200 again).
      for (let a = await call(`${running.url}/api/v1/users/me`, token); a.status !== 503; a = await call(`${running.url}/api/v1/users/me`, token)) {
        expect(a.status).toBe(200);
        await new Promise((r) => setTimeout(r, 100));
      }
      // The list mended: answered again, no restart.
      writeFileSync(renewed, authority.revocationList([]));
      for (let a = await call(`${running.url}/api/v1/users/me`, token); a.status !== 200; a = await call(`${running.url}/api/v1/users/me`, token)) {
        expect(a.status).toBe(503);
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      await stopServe(running.child);
    }
  });

  it('an sslcrl or sslcrldir that cannot be read, or holds no list, refuses the store, named with a code (libpq would go on unchecked)', async () => {
    const url = await database(`sslmode=verify-full&sslrootcert=${caFile}`);
    initialised(url);
    const refused = (store: string, env: Record<string, string> = {}) => {
      const r = keyward(['keys', 'ls'], { KEYWARD_STORE: store, KEYWARD_USER: 'alice', ...env });
      expect(r.code, r.stderr).toBe(1);
      expect(r.stdout + r.stderr).not.toContain(PASSWORD);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      return { code: codeOf(r), said: r.stderr };
    };
    const missing = join(dir, 'missing.crl');
    expect(refused(`${url}&sslcrl=${missing}`)).toEqual({ code: 'UNAVAILABLE', said: expect.stringContaining(`its sslcrl ${missing} cannot be read (no such file)`) });
    expect(refused(url, { PGSSLCRL: missing })).toEqual({ code: 'UNAVAILABLE', said: expect.stringContaining(`its sslcrl (PGSSLCRL) ${missing} cannot be read`) });
    expect(refused(`${url}&sslcrldir=${join(dir, 'no-such-dir')}`)).toEqual({ code: 'UNAVAILABLE', said: expect.stringContaining('its sslcrldir') });
    // A certificate where a list should be: not a list.
    expect(refused(`${url}&sslcrl=${caFile}`)).toEqual({ code: 'INVALID_INPUT', said: expect.stringContaining(`its sslcrl ${caFile} holds no certificate revocation list`) });
    const empty = join(dir, 'empty-crls');
    mkdirSync(empty);
    expect(refused(`${url}&sslcrldir=${empty}`)).toEqual({ code: 'INVALID_INPUT', said: expect.stringContaining(`its sslcrldir ${empty} holds no file`) });
    const broken = join(dir, 'broken.crl');
    writeFileSync(broken, '-----BEGIN X509 CRL-----\nbm90IGEgbGlzdA==\n-----END X509 CRL-----\n');
    expect(refused(`${url}&sslcrl=${broken}`)).toEqual({ code: 'INVALID_INPUT', said: expect.stringContaining('holds a certificate revocation list that cannot be read') });
  });

  it('an sslrootcert that cannot be read is named in the refusal, with a code', async () => {
    const url = await database(`sslmode=verify-full&sslrootcert=${join(dir, 'missing.pem')}`);
    const r = keyward(['keys', 'ls'], { KEYWARD_STORE: url, KEYWARD_USER: 'alice' });
    expect(r.code).toBe(1);
    expect(codeOf(r)).toBe('UNAVAILABLE');
    expect(r.stderr).toContain('missing.pem');
    expect(r.stderr).not.toContain(PASSWORD);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
