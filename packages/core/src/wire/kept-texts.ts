// JSON texts kept per id with what each was made of, made again only when
// that changed: the one cache shape behind GET /users/me (me-text.ts) and a
// key list's rows (key-texts.ts). A hit adopts what it was compared with,
// so the next compare is settled by identity (sameRecord's first check)
// while the store hands out the same objects. Beyond `max` texts the cache
// starts over: a bound on memory, not an eviction policy.
//
// A text may also be kept per id and viewer (a key's row differs by who
// looks at it): the id finds the texts of every viewer, and the viewer's is
// looked for among them. The id is the record's own string, which keeps the
// hash V8 computed for it, so a list page's rows are found without building
// and hashing an "actor + key" string per row per request (that was ~8% of a
// page's server CPU).

interface Kept<Of> {
  of: Of;
  text: string;
  viewer: string;
  /** The same id's text for another viewer. */
  other: Kept<Of> | undefined;
}

export class KeptTexts<Of> {
  private readonly kept = new Map<string, Kept<Of>>();
  private count = 0;

  /**
   * `same(kept, now)`: what the kept text was made of is what it is made of
   * now. `adopt` makes what a hit keeps from the two (now, by default);
   * `keep` what a new text keeps (a copy of anything the caller changes in
   * place later).
   */
  constructor(
    private readonly max: number,
    private readonly same: (kept: Of, now: Of) => boolean,
    private readonly adopt: (kept: Of, now: Of) => Of = (_kept, now) => now,
    private readonly keep: (now: Of) => Of = (now) => now,
  ) {}

  /**
   * `make` gets what the text kept for this id (and viewer, if any) was made of,
   * for a cache that can make the new text from the old one's parts.
   */
  text(id: string, now: Of, make: (kept: Of | undefined) => string, viewer = ''): string {
    let first = this.kept.get(id);
    let hit = first;
    while (hit !== undefined && hit.viewer !== viewer) hit = hit.other;
    if (hit !== undefined && this.same(hit.of, now)) {
      hit.of = this.adopt(hit.of, now);
      return hit.text;
    }
    const text = make(hit?.of);
    if (hit !== undefined) {
      hit.of = this.keep(now);
      hit.text = text;
      return text;
    }
    if (this.count >= this.max) {
      this.kept.clear();
      this.count = 0;
      first = undefined;
    }
    this.kept.set(id, { of: this.keep(now), text, viewer, other: first });
    this.count++;
    return text;
  }
}
