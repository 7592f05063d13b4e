// The tenant: one row (settings included), kept as the engine wrote it.

import type { Tenant } from '../../domain.js';
import { type RowLock, SCHEMA, type Sql } from './sql.js';

export async function readTenant(sql: Sql, lock: RowLock = ''): Promise<Tenant | undefined> {
  const r = await sql.query<{ record: Tenant }>(`SELECT record FROM ${SCHEMA}.tenant ${lock}`);
  return r.rows[0]?.record;
}

/** Inserts the tenant unless there is one; true when this call created it. */
export async function insertTenant(sql: Sql, t: Tenant): Promise<boolean> {
  const r = await sql.query(`INSERT INTO ${SCHEMA}.tenant (id, record) VALUES ($1, $2) ON CONFLICT (only_one) DO NOTHING`, [t.id, t]);
  return r.rowCount === 1;
}

/** Whether the tenant is the one with this id (a fresh one at init). */
export async function tenantThere(sql: Sql, id: string): Promise<boolean> {
  return (await sql.query(`SELECT 1 FROM ${SCHEMA}.tenant WHERE id = $1`, [id])).rows.length > 0;
}

export async function writeTenant(sql: Sql, t: Tenant): Promise<void> {
  await sql.query(
    `INSERT INTO ${SCHEMA}.tenant (id, record) VALUES ($1, $2) ON CONFLICT (only_one) DO UPDATE SET id = excluded.id, record = excluded.record`,
    [t.id, t],
  );
}
