// Users of the tenant (behaviour §2, tenant admin): list, add, change licence and
// roles, remove. The tenant always keeps at least one admin.

import { type ApiKey, type User, isAdmin, statusOf } from '../domain.js';
import { printable } from '../duration.js';
import { newEvent } from '../events.js';
import { checkAdmin, checkLastAdmin, checkUserName, enforce } from '../policy.js';
import { refuse } from '../refusal.js';
import type { RemovedUser, UserPatch } from '../service.js';
import type { Transaction } from '../store/boundary.js';
import { type UserView, userView } from '../views.js';
import type { ActorContext } from './context.js';

/** The tenant's admins, counted only when `u` is one (the last-admin rule asks nothing else). */
async function adminsIn(tx: Transaction, u: User): Promise<number> {
  return isAdmin(u) ? (await tx.listUsers()).filter(isAdmin).length : 0;
}

export async function listUsers(c: ActorContext): Promise<UserView[]> {
  const { actor } = await c.read();
  enforce(checkAdmin(actor));
  const users = await c.store.listUsers();
  const admins = users.filter(isAdmin).length;
  return users.map((u) => userView(u, { actor }, admins));
}

/** A user as the actor sees them after a change to `u` in `tx` (whether or not the transaction's reads see its own writes). */
async function viewIn(tx: Transaction, u: User, actor: User): Promise<UserView> {
  // Like adminsIn: the count only matters when `u` is an admin (no read, and no lock on PostgreSQL, otherwise).
  const admins = isAdmin(u) ? (await tx.listUsers()).filter((x) => x.id !== u.id && isAdmin(x)).length + 1 : 0;
  return userView(u, { actor }, admins);
}

export async function addUser(c: ActorContext, name: string, opts: { licence?: boolean } = {}): Promise<UserView> {
  enforce(checkUserName(name));
  return c.change(async ({ tx, actor, now }) => {
    enforce(checkAdmin(actor));
    if (await tx.getUser(name)) refuse('INVALID_INPUT', `There is already a user "${name}".`);
    const u: User = { id: name, licence: opts.licence === true, roles: [], created: new Date(now).toISOString() };
    tx.putUser(u);
    tx.emit(newEvent('user.added', now, actor.id, undefined, { user: name, licence: u.licence, roles: [] }));
    return viewIn(tx, u, actor);
  });
}

export async function updateUser(c: ActorContext, name: string, patch: UserPatch): Promise<UserView> {
  for (const [k, v] of Object.entries(patch ?? {})) {
    if (!['licence', 'developer', 'admin'].includes(k)) refuse('INVALID_INPUT', `"${printable(k)}" cannot be changed on a user; use licence, developer or admin.`);
    if (v !== undefined && typeof v !== 'boolean') refuse('INVALID_INPUT', `${k} must be on or off.`);
  }
  return c.change(async ({ tx, actor, now }) => {
    enforce(checkAdmin(actor));
    const u = await c.userIn(tx, name);
    const before = { licence: u.licence, roles: [...u.roles] };
    const roles = new Set(u.roles);
    if (patch.developer !== undefined) patch.developer ? roles.add('Developer') : roles.delete('Developer');
    if (patch.admin !== undefined) patch.admin ? roles.add('TenantAdmin') : roles.delete('TenantAdmin');
    if (!roles.has('TenantAdmin')) enforce(checkLastAdmin(u, await adminsIn(tx, u), 'demote'));
    const next: User = { ...u, licence: patch.licence ?? u.licence, roles: (['TenantAdmin', 'Developer'] as const).filter((r) => roles.has(r)) };
    const after = { licence: next.licence, roles: next.roles };
    if (JSON.stringify(before) !== JSON.stringify(after)) {
      tx.putUser(next);
      tx.emit(newEvent('user.updated', now, actor.id, undefined, { user: name, from: before, to: after }));
    }
    return viewIn(tx, next, actor);
  });
}

/**
 * Removes a user: their active keys are revoked first (each with its
 * api-key.revoked event), then the user goes (user.removed), all in one
 * transaction. Their other keys stay, expired or revoked, for the record.
 */
export async function removeUser(c: ActorContext, name: string): Promise<RemovedUser> {
  const { removed, revoked, tenant, actor } = await c.change(async ({ tx, tenant, actor, now }) => {
    enforce(checkAdmin(actor));
    const u = await c.userIn(tx, name);
    enforce(checkLastAdmin(u, await adminsIn(tx, u), 'remove'));
    await tx.lockUser(u.id);
    const iso = new Date(now).toISOString();
    const revoked: ApiKey[] = [];
    for (const k of await tx.keysOf(u.id)) {
      if (statusOf(k, now) !== 'active') continue;
      const next: ApiKey = { ...k, revokedAt: iso, revokedBy: actor.id, lastUpdated: iso };
      tx.putKey(next);
      tx.emit(newEvent('api-key.revoked', now, actor.id, k.id, { description: k.description, sub: k.owner, reason: 'user removed' }));
      revoked.push(next);
    }
    tx.deleteUser(u.id);
    tx.emit(newEvent('user.removed', now, actor.id, undefined, { user: u.id, roles: u.roles, revokedKeys: revoked.map((k) => k.id) }));
    // Gone: nothing more can be done to them.
    const removed: UserView = { ...userView(u, { actor }, 0), actions: { setLicence: false, setRoles: false, demote: false, remove: false } };
    return { removed, revoked, tenant, actor };
  });
  return { user: removed, revoked: await c.views(revoked, tenant, actor) };
}
