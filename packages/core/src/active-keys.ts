// How many active keys an owner holds, for whoami's "can I generate now?".
// Counting by scanning every key made each GET /api/v1/users/me O(all keys of
// the tenant). Instead, per store document and generation (the rule KeyIndex
// and KeyFacts follow), each owner's unrevoked expiry times are kept sorted,
// so a count at any moment is one binary search.

import type { StoreDocument } from './domain.js';

export class ActiveKeyCounts {
  private doc?: StoreDocument;
  private generation = -1;
  private expiries = new Map<string, number[]>();

  count(doc: StoreDocument, generation: number, owner: string, now: number): number {
    if (doc !== this.doc || generation !== this.generation) {
      const byOwner = new Map<string, number[]>();
      for (const id in doc.keys) {
        const k = doc.keys[id];
        if (k.revokedAt) continue;
        const list = byOwner.get(k.owner);
        if (list) list.push(Date.parse(k.expiry));
        else byOwner.set(k.owner, [Date.parse(k.expiry)]);
      }
      for (const list of byOwner.values()) list.sort((a, b) => a - b);
      this.expiries = byOwner;
      this.doc = doc;
      this.generation = generation;
    }
    const list = this.expiries.get(owner);
    if (!list) return 0;
    // Active means expiry after now: count the tail past the first such expiry.
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid] > now) hi = mid;
      else lo = mid + 1;
    }
    return list.length - lo;
  }
}
