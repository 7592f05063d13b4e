// JSON texts kept per id with what each was made of, made again only when
// that changed: the one cache shape behind GET /users/me (me-text.ts) and a
// key list's rows (key-texts.ts). A hit adopts what it was compared with,
// so the next compare is settled by identity (sameRecord's first check)
// while the store hands out the same objects. Beyond `max` ids the cache
// starts over: a bound on memory, not an eviction policy.

export class KeptTexts<Of> {
  private readonly kept = new Map<string, { of: Of; text: string }>();

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

  /** `make` gets what the text kept for this id (if any) was made of, for a cache that can make the new text from the old one's parts. */
  text(id: string, now: Of, make: (kept: Of | undefined) => string): string {
    const hit = this.kept.get(id);
    if (hit && this.same(hit.of, now)) {
      hit.of = this.adopt(hit.of, now);
      return hit.text;
    }
    const text = make(hit?.of);
    if (this.kept.size >= this.max) this.kept.clear();
    this.kept.set(id, { of: this.keep(now), text });
    return text;
  }
}
