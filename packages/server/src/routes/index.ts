// Every route of the HTTP API (behaviour §3). Literal paths come before paths
// with parameters: the first route that matches the path and takes the
// method answers.

import { ROUTES } from '@keyward/core';
import { Router } from '../router.js';
import { listEvents } from './audits.js';
import { createKey, deleteKey, deleteMyKeys, getKey, keyUsage, listKeys, patchKey, revokeKey, revokeKeys, rotateKey, verifyToken } from './keys.js';
import { health, live } from './health.js';
import { reportLeaked } from './leaks.js';
import { getConfig, patchConfig } from './tenant.js';
import { addUser, listUsers, me, patchUser, removeUser } from './users.js';

export const router = new Router([
  { path: ROUTES.keys, methods: { GET: listKeys, POST: createKey } },
  { path: ROUTES.verify, methods: { POST: verifyToken } },
  { path: ROUTES.revokeKeys, methods: { POST: revokeKeys } },
  { path: ROUTES.leaked, methods: {}, open: { POST: reportLeaked } },
  { path: ROUTES.deleteMine, methods: { POST: deleteMyKeys } },
  { path: ROUTES.usage, methods: { GET: keyUsage } },
  { path: ROUTES.config, methods: { GET: getConfig, PATCH: patchConfig } },
  { path: ROUTES.key, methods: { GET: getKey, PATCH: patchKey, DELETE: deleteKey } },
  { path: ROUTES.revokeKey, methods: { POST: revokeKey } },
  { path: ROUTES.rotateKey, methods: { POST: rotateKey } },
  { path: ROUTES.users, methods: { GET: listUsers, POST: addUser } },
  { path: ROUTES.me, methods: { GET: me } },
  { path: ROUTES.user, methods: { PATCH: patchUser, DELETE: removeUser } },
  { path: ROUTES.audits, methods: { GET: listEvents } },
  { path: ROUTES.health, methods: {}, open: { GET: health } },
  { path: ROUTES.live, methods: {}, open: { GET: live } },
]);
