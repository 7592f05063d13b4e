// Users of the tenant; a user's row is what a transaction locks before it
// checks that user's key limit.

import type { User } from '../../domain.js';
import { type RowLock, SCHEMA, type Sql } from './sql.js';

export async function readUser(sql: Sql, id: string, lock: RowLock = ''): Promise<User | undefined> {
  const r = await sql.query<{ record: User }>(`SELECT record FROM ${SCHEMA}.users WHERE id = $1 ${lock}`, [id]);
  return r.rows[0]?.record;
}

export async function readUsers(sql: Sql, lock: RowLock = ''): Promise<User[]> {
  const r = await sql.query<{ record: User }>(`SELECT record FROM ${SCHEMA}.users ORDER BY id ${lock}`);
  return r.rows.map((row) => row.record);
}

/** Holds the user's row until the transaction ends: a second server's lockUser waits here. */
export async function lockUserRow(sql: Sql, id: string): Promise<void> {
  await sql.query(`SELECT 1 FROM ${SCHEMA}.users WHERE id = $1 FOR UPDATE`, [id]);
}

export async function writeUser(sql: Sql, u: User): Promise<void> {
  await sql.query(`INSERT INTO ${SCHEMA}.users (id, record) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET record = excluded.record`, [u.id, u]);
}

export async function removeUser(sql: Sql, id: string): Promise<void> {
  await sql.query(`DELETE FROM ${SCHEMA}.users WHERE id = $1`, [id]);
}
