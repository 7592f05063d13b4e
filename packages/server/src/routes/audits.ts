// /api/v1/audits: the event log, newest first, for tenant admins.

import type { EventType } from '@keyward/core';
import { pageBody } from '../paging.js';
import type { Handler } from '../router.js';

export const listEvents: Handler = async (call) => {
  const q = call.query;
  // The engine checks the event type and the times.
  const page = await call.service.listEvents({
    type: q.get('eventType') as EventType | undefined,
    hideUsage: q.flag('hideUsage'),
    keyId: q.get('keyId'),
    userId: q.get('userId'),
    since: q.get('since'),
    until: q.get('until'),
    limit: q.limit(20, 100),
    ...q.cursors(),
  });
  return { status: 200, body: pageBody(call, page) };
};
