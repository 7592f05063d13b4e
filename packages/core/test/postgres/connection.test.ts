// connection.ts: a PostgreSQL store's URL asks for TLS as libpq's does, and
// each sslmode means what it means to libpq (node-postgres 8 alone took
// `require` for verify-full, refusing a managed database whose CA Node does
// not know, and printed a security warning). A URL naming a file that cannot
// be read, or a mode that cannot work, is refused with a code, no password.
// redactUrl hides a password given as a query parameter too.
// The same against a real TLS-only PostgreSQL: test/postgres-tls.pg.test.ts.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { KeywardError } from '../../src/refusal.js';
import { connectionConfig } from '../../src/store/postgres/connection.js';
import { redactUrl } from '../../src/store/postgres/url.js';

const dir = mkdtempSync(join(tmpdir(), 'keyward-connection-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ca = join(dir, 'ca.pem');
writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nnot checked here\n-----END CERTIFICATE-----\n');

const BASE = 'postgres://keyward:s3cret-pw@db.example.com:5432/keyward';
const tlsOf = (params: string) => connectionConfig(`${BASE}?${params}`).ssl as ConnectionOptions | boolean | undefined;

function refusal(url: string): KeywardError {
  try {
    connectionConfig(url);
  } catch (e) {
    expect(e).toBeInstanceOf(KeywardError);
    return e as KeywardError;
  }
  throw new Error(`${url} was not refused`);
}

describe('connectionConfig: sslmode as libpq means it', () => {
  it('names the same database, user and password as the URL', () => {
    const c = connectionConfig(BASE, {});
    expect(c).toMatchObject({ host: 'db.example.com', port: 5432, user: 'keyward', password: 's3cret-pw', database: 'keyward' });
    // Without sslmode (in the URL or PGSSLMODE), libpq's default: prefer (TLS where the server has it, unchecked; else plain).
    expect(c).toMatchObject({ ssl: { rejectUnauthorized: false }, plainIfNoTls: true });
  });

  it('disable: no TLS; require: TLS without checking the certificate, and no warning printed', () => {
    const warnings: string[] = [];
    const heard = (w: Error) => warnings.push(w.message);
    process.on('warning', heard);
    try {
      expect(tlsOf('sslmode=disable')).toBe(false);
      expect(tlsOf('sslmode=require')).toMatchObject({ rejectUnauthorized: false });
      expect(tlsOf('sslmode=prefer')).toMatchObject({ rejectUnauthorized: false });
      expect(tlsOf('sslmode=allow')).toMatchObject({ rejectUnauthorized: false });
      // node-postgres's own word for it keeps its meaning.
      expect(tlsOf('sslmode=no-verify')).toMatchObject({ rejectUnauthorized: false });
    } finally {
      process.off('warning', heard);
    }
    expect(warnings.filter((w) => /SECURITY WARNING/.test(w))).toEqual([]);
  });

  it('verify-ca: the CA read from sslrootcert, the host name not checked; require with sslrootcert likewise', () => {
    for (const mode of ['verify-ca', 'require']) {
      const tls = tlsOf(`sslmode=${mode}&sslrootcert=${ca}`) as ConnectionOptions;
      expect(tls.ca).toContain('not checked here');
      expect(tls.rejectUnauthorized).not.toBe(false);
      expect(tls.checkServerIdentity?.('db.example.com', {} as never)).toBeUndefined();
    }
  });

  it('verify-full: the CA read from sslrootcert, the certificate and the host name checked', () => {
    const tls = tlsOf(`sslmode=verify-full&sslrootcert=${ca}`) as ConnectionOptions;
    expect(tls.ca).toContain('not checked here');
    expect(tls.rejectUnauthorized).not.toBe(false);
    expect(tls.checkServerIdentity).toBeUndefined();
  });

  it('an sslrootcert that cannot be read: UNAVAILABLE, naming the file, not the password', () => {
    const missing = join(dir, 'missing.pem');
    const e = refusal(`${BASE}?sslmode=verify-full&sslrootcert=${missing}`);
    expect(e.code).toBe('UNAVAILABLE');
    expect(e.message).toContain(`sslrootcert ${missing} cannot be read (no such file)`);
    expect(e.message).not.toContain('s3cret-pw');
  });

  it('verify-ca without sslrootcert (nothing to check the certificate against): INVALID_INPUT, not the password', () => {
    const e = refusal(`${BASE}?sslmode=verify-ca`);
    expect(e.code).toBe('INVALID_INPUT');
    expect(e.message).toMatch(/sslrootcert/);
    expect(e.message).not.toContain('s3cret-pw');
  });
});

describe('connectionConfig: prefer and allow, and files read again', () => {
  it('prefer and allow may go on in plain text where the server has no TLS (tls-or-plain.ts); no other mode may', () => {
    for (const mode of ['prefer', 'allow']) expect(connectionConfig(`${BASE}?sslmode=${mode}`).plainIfNoTls, mode).toBe(true);
    for (const mode of ['disable', 'require', 'no-verify', 'verify-full']) expect(connectionConfig(`${BASE}?sslmode=${mode}`).plainIfNoTls, mode).toBeUndefined();
    // No sslmode anywhere: prefer, libpq's default; PGSSLMODE's mode where it gives one.
    expect(connectionConfig(BASE, {}).plainIfNoTls).toBe(true);
    expect(connectionConfig(BASE, { PGSSLMODE: 'require' }).plainIfNoTls).toBeUndefined();
  });

  it('sslnegotiation=direct with prefer or allow: INVALID_INPUT, as libpq refuses it, not the password; with require, taken', () => {
    for (const mode of ['prefer', 'allow']) {
      const e = refusal(`${BASE}?sslmode=${mode}&sslnegotiation=direct`);
      expect(e.code).toBe('INVALID_INPUT');
      expect(e.message).toContain(`sslnegotiation=direct needs sslmode=require or stronger, as in libpq (it has sslmode=${mode})`);
      expect(e.message).not.toContain('s3cret-pw');
    }
    expect(tlsOf('sslmode=require&sslnegotiation=direct')).toMatchObject({ rejectUnauthorized: false });
  });

  it('each file read again whenever its text is taken (each handshake), its last text kept while it cannot be read', () => {
    const renewing = join(dir, 'renewing.pem');
    writeFileSync(renewing, 'the first CA');
    const tls = tlsOf(`sslmode=verify-full&sslrootcert=${renewing}`) as ConnectionOptions;
    expect(tls.ca).toBe('the first CA');
    writeFileSync(renewing, 'the renewed CA');
    // As node-postgres takes it for a handshake: copied out of the settings.
    expect({ ...tls }.ca).toBe('the renewed CA');
    rmSync(renewing);
    expect(tls.ca).toBe('the renewed CA');
  });
});

describe("connectionConfig: libpq's environment for what the URL leaves out", () => {
  it('PGSSLMODE means what sslmode means (require: the certificate not checked, where node-postgres alone read it as verify-full); the URL\'s own sslmode wins', () => {
    expect(connectionConfig(BASE, { PGSSLMODE: 'require' }).ssl).toMatchObject({ rejectUnauthorized: false });
    expect(connectionConfig(BASE, { PGSSLMODE: 'prefer' })).toMatchObject({ ssl: { rejectUnauthorized: false }, plainIfNoTls: true });
    expect(connectionConfig(BASE, { PGSSLMODE: 'disable' }).ssl).toBe(false);
    expect(connectionConfig(`${BASE}?sslmode=disable`, { PGSSLMODE: 'require' }).ssl).toBe(false);
    expect(connectionConfig(`${BASE}?application_name=kw`, { PGSSLMODE: 'require' })).toMatchObject({ application_name: 'kw', ssl: { rejectUnauthorized: false } });
  });

  it('PGSSLROOTCERT, PGSSLCERT and PGSSLKEY name the files the URL does not', () => {
    const other = join(dir, 'other-ca.pem');
    writeFileSync(other, 'the other CA');
    const ssl = (url: string, env: NodeJS.ProcessEnv) => connectionConfig(url, env).ssl as ConnectionOptions;
    expect(ssl(BASE, { PGSSLMODE: 'verify-full', PGSSLROOTCERT: ca }).ca).toContain('not checked here');
    expect(ssl(`${BASE}?sslmode=verify-full&sslrootcert=${other}`, { PGSSLROOTCERT: ca }).ca).toBe('the other CA');
    expect(ssl(`${BASE}?sslmode=require`, { PGSSLCERT: other, PGSSLKEY: other })).toMatchObject({ cert: 'the other CA', key: 'the other CA' });
  });

  it('a file the environment names that cannot be read: UNAVAILABLE, naming the variable and the file; the URL shown as given, without the password', () => {
    const missing = join(dir, 'missing-ca.pem');
    let e: unknown;
    try {
      connectionConfig(BASE, { PGSSLMODE: 'verify-full', PGSSLROOTCERT: missing });
    } catch (err) {
      e = err;
    }
    expect(e).toBeInstanceOf(KeywardError);
    expect((e as KeywardError).code).toBe('UNAVAILABLE');
    expect((e as KeywardError).message).toBe(`The PostgreSQL store at postgres://keyward@db.example.com:5432/keyward cannot be used: its sslrootcert (PGSSLROOTCERT) ${missing} cannot be read (no such file).`);
  });
});

describe('connectionConfig: sslrootcert=system, as in libpq 16', () => {
  it("Node's own CAs, the host name checked; verify-full its default (in the URL or PGSSLROOTCERT), and no file read", () => {
    for (const [url, env] of [[`${BASE}?sslrootcert=system`, {}], [BASE, { PGSSLROOTCERT: 'system' }], [`${BASE}?sslmode=verify-full&sslrootcert=system`, {}]] as const) {
      const c = connectionConfig(url, env);
      const tls = c.ssl as ConnectionOptions;
      expect(typeof tls, url).toBe('object');
      expect(tls.ca, url).toBeUndefined();
      expect(tls.rejectUnauthorized, url).not.toBe(false);
      expect(tls.checkServerIdentity, url).toBeUndefined();
      expect(c.plainIfNoTls, url).toBeUndefined();
    }
  });

  it('with any weaker sslmode: INVALID_INPUT, as libpq refuses it, not the password', () => {
    for (const mode of ['require', 'verify-ca', 'prefer', 'disable']) {
      const e = refusal(`${BASE}?sslmode=${mode}&sslrootcert=system`);
      expect(e.code, mode).toBe('INVALID_INPUT');
      expect(e.message).toContain(`sslrootcert=system needs sslmode=verify-full, as in libpq (it has sslmode=${mode})`);
      expect(e.message).not.toContain('s3cret-pw');
    }
  });
});

describe('connectionConfig: connect_timeout, as in libpq', () => {
  const timeoutOf = (params: string, env: NodeJS.ProcessEnv = {}) => connectionConfig(`${BASE}?sslmode=disable${params}`, env).connectTimeoutMs;

  it('a whole number of seconds bounds each attempt to connect; 1 is taken as 2, as libpq takes it', () => {
    expect(timeoutOf('&connect_timeout=10')).toBe(10_000);
    expect(timeoutOf('&connect_timeout=1')).toBe(2_000);
    expect(timeoutOf('')).toBeUndefined();
  });

  it("0 or less (libpq's wait without end) keeps Keyward's own bounds: a server must not hang on a database that never answers", () => {
    expect(timeoutOf('&connect_timeout=0')).toBeUndefined();
    expect(timeoutOf('&connect_timeout=-5')).toBeUndefined();
  });

  it('PGCONNECT_TIMEOUT where the URL gives none; the URL wins', () => {
    expect(timeoutOf('', { PGCONNECT_TIMEOUT: '7' })).toBe(7_000);
    expect(timeoutOf('&connect_timeout=3', { PGCONNECT_TIMEOUT: '7' })).toBe(3_000);
  });

  it('not a whole number: INVALID_INPUT naming the parameter, not the password', () => {
    for (const bad of ['ten', '2.5', '']) {
      const refusal = (() => {
        try {
          timeoutOf(`&connect_timeout=${bad}`);
        } catch (e) {
          return e as KeywardError;
        }
      })();
      expect(refusal).toBeInstanceOf(KeywardError);
      expect(refusal!.code).toBe('INVALID_INPUT');
      expect(refusal!.message).toMatch(/connect_timeout must be a whole number of seconds/);
      expect(refusal!.message).not.toContain('s3cret-pw');
    }
  });
});

describe('connectionConfig: load_balance_hosts, as in libpq', () => {
  it('disable and random are taken (the order they give: load-balance.pg.test.ts); anything else is INVALID_INPUT naming the parameter, not the password', () => {
    for (const mode of ['disable', 'random']) expect(() => connectionConfig(`${BASE}?sslmode=disable&load_balance_hosts=${mode}`, {})).not.toThrow();
    for (const bad of ['yes', 'Random', '']) {
      const r = refusal(`${BASE}?sslmode=disable&load_balance_hosts=${bad}`);
      expect(r.code).toBe('INVALID_INPUT');
      expect(r.message).toMatch(/load_balance_hosts must be disable or random/);
      expect(r.message).not.toContain('s3cret-pw');
    }
    expect(() => connectionConfig(`${BASE}?sslmode=disable`, { PGLOADBALANCEHOSTS: 'sometimes' })).toThrow(/load_balance_hosts must be disable or random/);
  });
});

describe('redactUrl', () => {
  it('leaves sslmode and sslrootcert as they were, the password out', () => {
    expect(redactUrl(`${BASE}?sslmode=verify-full&sslrootcert=/etc/ssl/rds.pem`)).toBe('postgres://keyward@db.example.com:5432/keyward?sslmode=verify-full&sslrootcert=/etc/ssl/rds.pem');
  });

  it('takes out a password (or a client key passphrase) given as a query parameter', () => {
    const shown = redactUrl('postgresql://keyward@db.example.com/keyward?sslmode=require&password=s3cret-pw&sslpassword=k3y-pw');
    expect(shown).not.toContain('s3cret-pw');
    expect(shown).not.toContain('k3y-pw');
    expect(shown).toContain('sslmode=require');
  });

  it("shows a URL whose host is left to ?host= (a Unix socket's directory), the user kept and the password out", () => {
    expect(redactUrl('postgres://keyward:s3cret-pw@/keyward?host=/var/run/postgresql')).toBe('postgres://keyward@/keyward?host=/var/run/postgresql');
    expect(redactUrl('postgresql://keyward:s3cret-pw@:5433/keyward?host=/tmp')).toBe('postgresql://keyward@:5433/keyward?host=/tmp');
    expect(redactUrl('postgresql:///keyward?host=/tmp&user=keyward&password=s3cret-pw')).toBe('postgresql:///keyward?host=%2Ftmp&user=keyward');
  });
});
