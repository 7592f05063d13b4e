// GET /users/me's body as text, the API's busiest answer: made again only
// when what it is made of changed. Stores that keep their records in memory
// (memory, JSON) hand out the same tenant and user objects until a change
// replaces them, so an answer whose tenant, user, active-key count and admin
// count are the very same as last time is the same text; a store that hands
// out copies (PostgreSQL) simply never matches. The active-key count is read
// every time: a key that expires changes it without any change to the store.

import type { WhoAmI } from '../service.js';
import type { WhoAmIReads } from '../use-cases/settings.js';
import { meBody } from './types.js';

// One entry per user asking; beyond this many, the cache starts over.
const MAX_USERS = 10_000;

export class MeTexts {
  private readonly byUser = new Map<string, { reads: WhoAmIReads; text: string }>();

  text(reads: WhoAmIReads, make: () => WhoAmI): string {
    const hit = this.byUser.get(reads.actor.id);
    if (hit && hit.reads.tenant === reads.tenant && hit.reads.actor === reads.actor && hit.reads.activeKeys === reads.activeKeys && hit.reads.admins === reads.admins) return hit.text;
    const text = JSON.stringify(meBody(make()));
    if (this.byUser.size >= MAX_USERS) this.byUser.clear();
    this.byUser.set(reads.actor.id, { reads, text });
    return text;
  }
}
