// GET /users/me's body as text, the API's busiest answer: made again only
// when what it is made of changed — the tenant, the user, whether the
// active-key count lets the user generate (or the count itself, at the
// limit) and the admin count. Stores that keep their records in memory
// (memory, JSON) hand out the same objects until a change replaces them, so
// most answers are settled by identity; a store that hands out copies
// (PostgreSQL's record cache) is compared field by field, which still costs
// far less than whoami's views and JSON.stringify. The active-key count is
// read every time: a key that expires changes it without any change to the
// store.

import { settingsOf } from '../domain.js';
import { checkGenerate } from '../policy.js';
import type { WhoAmI } from '../service.js';
import type { WhoAmIReads } from '../use-cases/settings.js';
import { KeptTexts } from './kept-texts.js';
import { sameRecord } from './same-record.js';
import { meBody } from './types.js';

// One entry per user asking; beyond this many, the cache starts over.
const MAX_USERS = 10_000;

/**
 * The answer shows the active-key count only through whether generating is
 * refused (canGenerate; KEY_LIMIT_REACHED's message names the count): two
 * counts under the limit give the same text, so a key made or revoked below
 * it (every create of the owner's) does not make it again.
 */
const sameCount = (kept: WhoAmIReads, now: WhoAmIReads) => kept.activeKeys === now.activeKeys || (mayGenerate(kept) && mayGenerate(now));
const mayGenerate = ({ tenant, actor, activeKeys }: WhoAmIReads) => checkGenerate({ actor, owner: actor, settings: settingsOf(tenant), activeKeys }).ok;

const sameReads = (kept: WhoAmIReads, now: WhoAmIReads) =>
  kept.admins === now.admins && sameRecord(kept.tenant, now.tenant) && sameRecord(kept.actor, now.actor) && sameCount(kept, now);

export class MeTexts {
  private readonly byUser = new KeptTexts<WhoAmIReads>(MAX_USERS, sameReads);

  text(reads: WhoAmIReads, make: () => WhoAmI): string {
    return this.byUser.text(reads.actor.id, reads, () => JSON.stringify(meBody(make())));
  }
}
