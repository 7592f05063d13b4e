// What happened (behaviour §2, tenant admin): events, newest first, found by the
// store with cursors; usage per key, from the usage aggregates. No path here
// reads every event.

import { type KeywardEvent, settingsOf, statusOf } from '../domain.js';
import { eventFindOf, eventPageOf, parseSince } from '../events.js';
import { checkAdmin, enforce, keyActions, noKeyActions } from '../policy.js';
import type { EventQuery, Page } from '../service.js';
import type { EventFind } from '../store/boundary.js';
import type { EventView, UsageRow } from '../views.js';
import { type ActorContext, checkKeyId } from './context.js';

export async function listEvents(c: ActorContext, q: EventQuery = {}): Promise<Page<EventView>> {
  const { actor, now } = await c.read();
  enforce(checkAdmin(actor));
  if (q.keyId !== undefined) checkKeyId(q.keyId);
  return eventPageOf(await c.store.findEvents(eventFindOf(q, now)));
}

/** Every event a question finds, page by page (for the few events usage needs, never for all). */
async function* allFound(c: ActorContext, q: EventFind): AsyncGenerator<KeywardEvent> {
  let page = await c.store.findEvents(q);
  for (;;) {
    yield* page.data;
    if (!page.hasNext || page.data.length === 0) return;
    page = await c.store.findEvents({ ...q, startingAfter: page.data[page.data.length - 1].id });
  }
}

export async function usage(c: ActorContext, q: { since?: string } = {}): Promise<UsageRow[]> {
  const { tenant, actor, now } = await c.read();
  enforce(checkAdmin(actor));
  const settings = settingsOf(tenant);
  const since = q.since === undefined ? 0 : parseSince(q.since, now);
  const uses = await c.engine.usage.usesSince(since);
  const excessive = new Set<string>();
  for await (const e of allFound(c, { types: ['api-key.excessive-use'], since: q.since === undefined ? undefined : since, limit: 1000 })) {
    if (e.keyId) excessive.add(e.keyId);
  }
  const ids = [...new Set([...uses.keys(), ...excessive])];
  const lastUsed = await c.engine.usage.lastUsedOf(ids);
  const rows: UsageRow[] = [];
  for (const keyId of ids) {
    const key = await c.store.getKey(keyId);
    // A deleted key is described by its deletion event.
    const gone = key ? undefined : (await c.store.findEvents({ keyId, types: ['api-key.deleted', 'api-key.generated'], limit: 1 })).data[0];
    const last = lastUsed.get(keyId)?.lastUsed;
    rows.push({
      keyId,
      description: key ? key.description : String(gone?.data.description ?? ''),
      sub: key ? key.owner : String(gone?.data.sub ?? ''),
      status: key ? statusOf(key, now) : 'deleted',
      uses: uses.get(keyId) ?? 0,
      lastUsed: last === undefined ? null : new Date(last).toISOString(),
      excessive: excessive.has(keyId),
      actions: key ? keyActions(actor, key, settings, now) : noKeyActions(),
    });
  }
  return rows.sort((a, b) => b.uses - a.uses || (a.keyId < b.keyId ? -1 : 1));
}
