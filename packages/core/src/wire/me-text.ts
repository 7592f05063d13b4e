// GET /users/me's body as text, the API's busiest answer: made again only
// when what it is made of changed — the tenant, the user, the active-key
// count and the admin count. Stores that keep their records in memory
// (memory, JSON) hand out the same objects until a change replaces them, so
// most answers are settled by identity; a store that hands out copies
// (PostgreSQL's record cache) is compared field by field, which still costs
// far less than whoami's views and JSON.stringify. The active-key count is
// read every time: a key that expires changes it without any change to the
// store.

import type { WhoAmI } from '../service.js';
import type { WhoAmIReads } from '../use-cases/settings.js';
import { KeptTexts } from './kept-texts.js';
import { sameRecord } from './same-record.js';
import { meBody } from './types.js';

// One entry per user asking; beyond this many, the cache starts over.
const MAX_USERS = 10_000;

const sameReads = (kept: WhoAmIReads, now: WhoAmIReads) =>
  kept.activeKeys === now.activeKeys && kept.admins === now.admins && sameRecord(kept.tenant, now.tenant) && sameRecord(kept.actor, now.actor);

export class MeTexts {
  private readonly byUser = new KeptTexts<WhoAmIReads>(MAX_USERS, sameReads);

  text(reads: WhoAmIReads, make: () => WhoAmI): string {
    return this.byUser.text(reads.actor.id, reads, () => JSON.stringify(meBody(make())));
  }
}
