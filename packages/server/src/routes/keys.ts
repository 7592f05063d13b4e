// /api/v1/api-keys: Qlik's keys API, and Keyward's additions beside it
// (single and bulk revoke, deleting all of one's keys, usage, verify).

import { KeywardError, type KeySort, type KeyStatus, pathOf } from '@keyward/core';
import { readObject, readJson } from '../body.js';
import { PATCH_EXAMPLES, replacements } from '../json-patch.js';
import { pageBodyText } from '../paging.js';
import type { Handler } from '../router.js';

export const listKeys: Handler = async (call) => {
  const q = call.query;
  // The engine checks status and sort, with the same refusals as everywhere;
  // each key comes as its JSON text, made again only when it changed.
  const page = await call.engine.keyPageTexts(call.user, {
    status: q.get('status') as KeyStatus | undefined,
    sub: q.get('sub'),
    createdByUser: q.get('createdByUser'),
    search: q.get('search'),
    sort: q.get('sort') as KeySort | undefined,
    limit: q.limit(20, 100),
    offset: q.integer('offset'),
    ...q.cursors(),
  });
  return { status: 200, text: pageBodyText(call, page) };
};

export const createKey: Handler = async (call) => {
  const body = await readObject(call.req, '{"description":"CI deploys","expiry":"P7D"}');
  // The engine checks each field's type and value, with the codes of behaviour §5.
  const key = await call.service.generateKey({ description: body.description as string, expiry: body.expiry as string | undefined, sub: body.sub as string | undefined });
  // The one answer that carries a token: no cache, shared or private, may keep it.
  return { status: 201, body: key, headers: { Location: pathOf('key', { id: key.id }), 'Cache-Control': 'no-store' } };
};

export const getKey: Handler = async (call) => ({ status: 200, body: await call.service.getKey(call.params.id) });

export const patchKey: Handler = async (call) => {
  const fields = replacements(await readJson(call.req), PATCH_EXAMPLES.key);
  for (const field of fields.keys()) {
    if (field !== 'description') throw new KeywardError('INVALID_INPUT', 'Only /description can be changed on a key.');
  }
  if (!fields.has('description')) throw new KeywardError('INVALID_INPUT', 'The patch changes nothing; replace /description.');
  const key = await call.service.renameKey(call.params.id, fields.get('description') as string);
  return call.wantsRepresentation ? { status: 200, body: key, headers: { 'Preference-Applied': 'return=representation' } } : { status: 204 };
};

/**
 * Qlik's rule (core's deleteOrRevokeKey, one transaction): the owner's DELETE
 * deletes the key; a tenant admin's DELETE of someone else's key revokes it.
 * `?mode=delete` only ever deletes, refusing
 * anyone but the owner (NOT_KEY_OWNER), as `keyward keys rm` does.
 */
export const deleteKey: Handler = async (call) => {
  const mode = call.query.get('mode');
  if (mode !== undefined && mode !== 'delete') throw new KeywardError('INVALID_INPUT', 'mode can only be "delete".');
  if (mode === 'delete') await call.service.deleteKey(call.params.id);
  else await call.service.deleteOrRevokeKey(call.params.id);
  return { status: 204 };
};

export const revokeKey: Handler = async (call) => ({ status: 200, body: await call.service.revokeKey(call.params.id) });

/** Keyward's rotation: the owner replaces a key's token; the old one keeps working for the overlap (PT1H by default). */
export const rotateKey: Handler = async (call) => {
  // The body is optional: no body at all rotates with the default overlap.
  const empty = call.req.headers['content-type'] === undefined && !Number(call.req.headers['content-length']);
  const body = empty ? {} : await readObject(call.req, '{"overlap":"PT1H"}');
  if (body.overlap !== undefined && typeof body.overlap !== 'string') throw new KeywardError('INVALID_INPUT', 'overlap must be an ISO 8601 duration such as PT1H.');
  const key = await call.service.rotateKey(call.params.id, body.overlap as string | undefined);
  // Like a create, the answer carries the new token: no cache may keep it.
  return { status: 201, body: key, headers: { Location: pathOf('key', { id: key.id }), 'Cache-Control': 'no-store' } };
};

export const revokeKeys: Handler = async (call) => {
  const body = await readObject(call.req, '{"ids":["…","…"]}');
  if (!Array.isArray(body.ids)) throw new KeywardError('INVALID_INPUT', 'ids must be a list of key ids.');
  return { status: 200, body: await call.service.revokeKeys(body.ids as string[]) };
};

export const deleteMyKeys: Handler = async (call) => ({ status: 200, body: await call.service.deleteAllKeys() });

/**
 * Token verification for other services, like Unkey's verify: any holder of a
 * valid Keyward token may ask whether another token authenticates. The
 * answer is 200 either way; `valid` says which.
 */
export const verifyToken: Handler = async (call) => {
  const body = await readObject(call.req, '{"token":"kw_…"}');
  if (typeof body.token !== 'string') throw new KeywardError('INVALID_INPUT', 'token must be the text of a Keyward token.');
  // The address of the service's own client, when it passes one: where the key was used from.
  // The answer comes as its JSON text, the key's view made again only when it changed (core's key texts).
  return { status: 200, text: await call.engine.verifyTokenText(call.user, body.token, body.address as string | undefined) };
};

export const keyUsage: Handler = async (call) => ({ status: 200, body: { data: await call.service.usage({ since: call.query.get('since') }) } });
