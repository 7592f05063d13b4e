// host-list.ts: libpq's URL with several hosts (a database pair, as Patroni
// or a primary and its standby are named) is read as libpq reads it, where
// node-postgres and WHATWG URL refuse it as "Invalid URL"; connection.ts
// keeps the list for the store's connections (which go to the primary among
// them: test/postgres-failover.pg.test.ts), and takes target_session_attrs
// where it asks for what Keyward does. Shown, such a URL keeps its hosts and
// loses its password.

import { describe, expect, it } from 'vitest';
import { KeywardError } from '../../src/refusal.js';
import { connectionConfig } from '../../src/store/postgres/connection.js';
import { hostsOf, withFirstHost } from '../../src/store/postgres/host-list.js';
import { redactUrl } from '../../src/store/postgres/url.js';

const PAIR = 'postgres://keyward:s3cret-pw@db1.example.com:5432,db2.example.com:5433/keyward?sslmode=require';

describe('hostsOf and withFirstHost', () => {
  it('reads each host and port, the default port where none is given, IPv6 in brackets', () => {
    expect(hostsOf(PAIR)).toEqual([
      { host: 'db1.example.com', port: 5432 },
      { host: 'db2.example.com', port: 5433 },
    ]);
    expect(hostsOf('postgresql://u@[::1]:6432,10.0.0.2,db3/keyward')).toEqual([
      { host: '::1', port: 6432 },
      { host: '10.0.0.2', port: 5432 },
      { host: 'db3', port: 5432 },
    ]);
    // A password holding '@' or ',' does not move where the hosts begin.
    expect(hostsOf('postgres://u:p@ss,w@h1,h2:7/db')).toEqual([
      { host: 'h1', port: 5432 },
      { host: 'h2', port: 7 },
    ]);
  });

  it('leaves a URL with one host alone', () => {
    expect(hostsOf('postgres://keyward:pw@db.example.com:5432/keyward')).toBeUndefined();
    expect(withFirstHost('postgres://keyward:pw@db.example.com:5432/keyward?a=1,2')).toBe('postgres://keyward:pw@db.example.com:5432/keyward?a=1,2');
  });

  it('gives the parsers the first host alone', () => {
    expect(withFirstHost(PAIR)).toBe('postgres://keyward:s3cret-pw@db1.example.com:5432/keyward?sslmode=require');
  });

  it('refuses a list with an empty host or a port that is not one', () => {
    expect(() => hostsOf('postgres://u@h1,,h2/db')).toThrow(/empty/);
    expect(() => hostsOf('postgres://u@h1,h2:99999/db')).toThrow(/not a port number/);
  });
});

describe('connectionConfig with several hosts', () => {
  it('connects as the first host says, and keeps the list for choosing the primary', () => {
    const c = connectionConfig(PAIR, {});
    expect(c).toMatchObject({ host: 'db1.example.com', port: 5432, user: 'keyward', password: 's3cret-pw', database: 'keyward', ssl: { rejectUnauthorized: false } });
    expect(c.primaryOf?.hosts).toEqual([
      { host: 'db1.example.com', port: 5432 },
      { host: 'db2.example.com', port: 5433 },
    ]);
    expect(connectionConfig('postgres://keyward@db.example.com/keyward', {}).primaryOf).toBeUndefined();
  });

  it('takes target_session_attrs that ask for the primary, and refuses one that asks for a standby', () => {
    for (const attrs of ['any', 'read-write', 'primary']) expect(connectionConfig(`${PAIR}&target_session_attrs=${attrs}`, {}).primaryOf).toBeDefined();
    for (const attrs of ['read-only', 'standby', 'prefer-standby']) {
      let refusal: unknown;
      try {
        connectionConfig(`${PAIR}&target_session_attrs=${attrs}`, {});
      } catch (e) {
        refusal = e;
      }
      expect(refusal).toBeInstanceOf(KeywardError);
      expect((refusal as KeywardError).code).toBe('INVALID_INPUT');
      expect((refusal as KeywardError).message).toContain(`target_session_attrs=${attrs} asks for a standby, and Keyward needs the primary`);
      // Shown with its hosts, without its password.
      expect((refusal as KeywardError).message).toContain('postgres://keyward@db1.example.com:5432,db2.example.com:5433/keyward');
      expect((refusal as KeywardError).message).not.toContain('s3cret-pw');
    }
  });
});

describe('redactUrl with several hosts', () => {
  it('keeps every host and takes out the password', () => {
    expect(redactUrl(PAIR)).toBe('postgres://keyward@db1.example.com:5432,db2.example.com:5433/keyward?sslmode=require');
    expect(redactUrl('postgres://keyward:pw@[::1]:6432,db2/keyward?password=pw2')).toBe('postgres://keyward@[::1]:6432,db2/keyward');
  });
});
