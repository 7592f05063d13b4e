// Every route of the HTTP API (behaviour §3). Literal paths come before paths
// with parameters: the first route that matches the path and takes the
// method answers.

import { Router } from '../router.js';
import { listEvents } from './audits.js';
import { createKey, deleteKey, deleteMyKeys, getKey, keyUsage, listKeys, patchKey, revokeKey, revokeKeys, rotateKey, verifyToken } from './keys.js';
import { reportLeaked } from './leaks.js';
import { getConfig, patchConfig } from './tenant.js';
import { addUser, listUsers, me, patchUser, removeUser } from './users.js';

export const router = new Router([
  { path: '/api/v1/api-keys', methods: { GET: listKeys, POST: createKey } },
  { path: '/api/v1/api-keys/verify', methods: { POST: verifyToken } },
  { path: '/api/v1/api-keys/revoke', methods: { POST: revokeKeys } },
  { path: '/api/v1/api-keys/leaked', methods: {}, open: { POST: reportLeaked } },
  { path: '/api/v1/api-keys/delete-mine', methods: { POST: deleteMyKeys } },
  { path: '/api/v1/api-keys/usage', methods: { GET: keyUsage } },
  { path: '/api/v1/api-keys/configs/:tenantId', methods: { GET: getConfig, PATCH: patchConfig } },
  { path: '/api/v1/api-keys/:id', methods: { GET: getKey, PATCH: patchKey, DELETE: deleteKey } },
  { path: '/api/v1/api-keys/:id/revoke', methods: { POST: revokeKey } },
  { path: '/api/v1/api-keys/:id/rotate', methods: { POST: rotateKey } },
  { path: '/api/v1/users', methods: { GET: listUsers, POST: addUser } },
  { path: '/api/v1/users/me', methods: { GET: me } },
  { path: '/api/v1/users/:name', methods: { PATCH: patchUser, DELETE: removeUser } },
  { path: '/api/v1/audits', methods: { GET: listEvents } },
]);
