// What a test file that needs PostgreSQL uses: a database of its own on the
// server the `postgres` project's global setup started (or KEYWARD_TEST_PG_URL).

import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
// The name the global setup provides the server's URL under (a type only: nothing of it runs here).
import type {} from './postgres-global-setup.js';

/** The server's superuser URL with another database name. */
export function withDatabase(serverUrl: string, database: string): string {
  const u = new URL(serverUrl);
  u.pathname = `/${database}`;
  return u.toString();
}

/** Runs `fn` on a connection of its own to `serverUrl`, closed after however it ends. */
export async function admin<T>(serverUrl: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: serverUrl });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** Creates an empty database with a unique name on `serverUrl` (by default the project's server), with CREATE DATABASE's `options` (an encoding, say). */
export async function createTestDatabase(serverUrl = inject('postgresUrl'), options = ''): Promise<TestDatabase> {
  const name = `keyward_test_${randomBytes(6).toString('hex')}`;
  await admin(serverUrl, (c) => c.query(`CREATE DATABASE ${name} ${options}`));
  return {
    url: withDatabase(serverUrl, name),
    name,
    drop: () => admin(serverUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

/**
 * An empty database owned by a login role of its own, not a superuser, as a
 * person would be given one; its URL signs in as that role with a password
 * made for it, so a test can look for the password anywhere it must not be.
 */
export async function createOwnedTestDatabase(serverUrl = inject('postgresUrl')): Promise<TestDatabase & { password: string }> {
  const name = `keyward_test_${randomBytes(6).toString('hex')}`;
  const password = `pw-${randomBytes(12).toString('hex')}`;
  await admin(serverUrl, async (c) => {
    await c.query(`CREATE ROLE ${name} LOGIN PASSWORD '${password}'`);
    await c.query(`CREATE DATABASE ${name} OWNER ${name}`);
  });
  const u = new URL(withDatabase(serverUrl, name));
  u.username = name;
  u.password = password;
  return {
    url: u.toString(),
    name,
    password,
    drop: () =>
      admin(serverUrl, async (c) => {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await c.query(`DROP ROLE IF EXISTS ${name}`);
      }).then(() => undefined),
  };
}
