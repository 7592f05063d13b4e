// A fresh store for one part of the stress suite: a tenant with keys enabled,
// its admin (also a developer) and the developers who will act on it.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine, createJsonFileStore, initStore } from '@keyward/core';

export async function stressStore(opts: { users: string[]; limit: number; prefix: string }): Promise<string> {
  const path = join(mkdtempSync(join(tmpdir(), `keyward-${opts.prefix}-`)), 'keyward.json');
  await initStore(createJsonFileStore(path), { admin: 'admin', tenant: 'Stress' });
  const engine = createEngine(createJsonFileStore(path), { usageFlushMs: 0 });
  const admin = engine.as('admin');
  await admin.updateSettings({ api_keys_enabled: true, max_keys_per_user: opts.limit, max_api_key_expiry: 'P1D' });
  await admin.updateUser('admin', { developer: true });
  for (const u of opts.users) {
    await admin.addUser(u, { licence: true });
    await admin.updateUser(u, { developer: true });
  }
  await engine.close();
  return path;
}

/** Generates a key for `user` on the store and hands back its id and token (kept in memory by the caller). */
export async function keyFor(path: string, user: string, description: string): Promise<{ id: string; token: string }> {
  const engine = createEngine(createJsonFileStore(path), { usageFlushMs: 0 });
  const k = await engine.as(user).generateKey({ description, expiry: 'P1D' });
  await engine.close();
  return { id: k.id, token: k.token };
}
