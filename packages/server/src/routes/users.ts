// /api/v1/users: who am I (Qlik's users/me, with Keyward's additions), and
// the admin's user management: list, add, licence and roles.

import { KeywardError, type UserPatch, pathOf } from '@keyward/core';
import { readJson, readObject } from '../body.js';
import { PATCH_EXAMPLES, patchObject, replacements } from '../json-patch.js';
import type { Handler } from '../router.js';

/** The user as behaviour §6 shows one, plus the tenant, its settings and whether generating a key would be refused now (meBody's shape, as text made once per change). */
export const me: Handler = async (call) => ({ status: 200, text: await call.engine.meText(call.user) });

export const listUsers: Handler = async (call) => ({ status: 200, body: { data: await call.service.listUsers() } });

export const addUser: Handler = async (call) => {
  const body = await readObject(call.req, '{"name":"bob","licence":true}');
  if (body.licence !== undefined && typeof body.licence !== 'boolean') throw new KeywardError('INVALID_INPUT', 'licence must be true or false.');
  const user = await call.service.addUser(body.name as string, { licence: body.licence as boolean | undefined });
  return { status: 201, body: user, headers: { Location: pathOf('user', { name: user.name }) } };
};

/** JSON Patch replacing /licence, /developer or /admin with true or false; answers the user. */
export const patchUser: Handler = async (call) => {
  const fields = replacements(await readJson(call.req), PATCH_EXAMPLES.user);
  return { status: 200, body: await call.service.updateUser(call.params.name, patchObject(fields) as UserPatch) };
};

/** Revokes the user's active keys, then removes them: the user and the keys revoked (admins; never the last admin). */
export const removeUser: Handler = async (call) => ({ status: 200, body: await call.service.removeUser(call.params.name) });
