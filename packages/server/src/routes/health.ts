// GET /api/v1/health: for a load balancer in front of several `keyward
// serve` (README "Scale out"), whether this server can answer now (a
// readiness check). No bearer:
// a health check holds no token, and the answer tells nothing a caller could
// use (no store, no version, no count). 200 {"status":"ok"} when the store
// answers; otherwise the read's own refusal — 503 UNAVAILABLE with
// Retry-After while the database is away — and the reason in the server's log.

import type { OpenHandler } from '../router.js';

export const health: OpenHandler = async (call) => {
  await call.engine.ready();
  return { status: 200, body: { status: 'ok' } };
};

/**
 * GET /api/v1/health/live: whether this process answers at all (a liveness
 * check), without asking the store. A supervisor that restarts a server whose
 * liveness check fails (Kubernetes' livenessProbe) must not restart every
 * server whenever their database is away: they answer 503 meanwhile, and
 * serve again by themselves once it is back.
 */
export const live: OpenHandler = async () => ({ status: 200, body: { status: 'alive' } });
