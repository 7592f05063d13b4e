// Notices a change whose NOTIFY never came (changes.ts says how one is lost).
// The database counts committed changes to the tenant, users and keys, once
// per transaction (migration 3), in slots by backend: each such transaction
// adds one to its backend's slot. Every notification of such a change says
// which slot and the slot's count it read right behind its COMMIT, on the
// same backend: the value that transaction made it (a create sent whole
// names, since migration 12, the count its bump returned: its own value even
// when another backend on the slot committed in between). The listening
// connection reads every slot with each heartbeat. Notifications are sent
// right behind their COMMIT, so every value a heartbeat's count shows has
// been named by a notification by the next heartbeat, unless one was lost:
// then the change is taken as unknown, and caches drop everything.
//
// Values are matched one by one, so changes made meanwhile cannot stand in
// for a lost one. A notification that names a value not its own (another
// backend on the same slot committed in between) leaves its own unnamed:
// caches drop everything once for nothing, never the other way round.

/** Each slot's count. */
export type SlotCounts = ReadonlyMap<number, number>;

export class ChangeCount {
  /** The counts at the first heartbeat of this connection; values up to them are not matched. */
  private base?: Map<number, number>;
  /** Per slot, every value up to this one has been named (or forgiven once caches were dropped for it). */
  private readonly named = new Map<number, number>();
  /** Per slot, values named above that, out of order. */
  private readonly ahead = new Map<number, Set<number>>();
  /** The counts the previous heartbeat read. */
  private shown = new Map<number, number>();
  /** Named before the first heartbeat answered: matched once it has. */
  private early: [number, number][] = [];

  /** A notification of a counted change arrived, naming its slot and the value its transaction made. */
  heardOne(slot: number, value: number): void {
    if (this.base === undefined) {
      this.early.push([slot, value]);
      return;
    }
    const upTo = this.named.get(slot) ?? this.base.get(slot) ?? 0;
    if (value <= upTo) return;
    let ahead = this.ahead.get(slot);
    if (!ahead) this.ahead.set(slot, (ahead = new Set()));
    ahead.add(value);
    this.advance(slot);
  }

  /**
   * The counts a heartbeat read. True when a value the previous heartbeat
   * showed has still not been named (or a count went backwards: a database
   * restored from a backup): caches must drop everything.
   */
  read(counts: SlotCounts): boolean {
    const backwards = [...this.shown].some(([slot, n]) => (counts.get(slot) ?? 0) < n);
    if (this.base === undefined || backwards) {
      const first = this.base === undefined;
      this.base = new Map(counts);
      this.named.clear();
      this.ahead.clear();
      this.shown = new Map(counts);
      const early = this.early;
      this.early = [];
      if (first) for (const [slot, value] of early) this.heardOne(slot, value);
      return !first;
    }
    let lost = false;
    for (const [slot, n] of this.shown) {
      const upTo = this.named.get(slot) ?? this.base.get(slot) ?? 0;
      if (upTo >= n) continue;
      lost = true;
      // Forgiven: caches drop everything for it.
      this.named.set(slot, n);
      this.advance(slot);
    }
    this.shown = new Map(counts);
    return lost;
  }

  /** A new connection: its first heartbeat starts matching afresh. */
  reset(): void {
    this.base = undefined;
    this.early = [];
    this.named.clear();
    this.ahead.clear();
    this.shown = new Map();
  }

  private advance(slot: number): void {
    const ahead = this.ahead.get(slot);
    let upTo = this.named.get(slot) ?? this.base?.get(slot) ?? 0;
    if (ahead) {
      for (const v of ahead) if (v <= upTo) ahead.delete(v);
      while (ahead.delete(upTo + 1)) upTo++;
      if (ahead.size === 0) this.ahead.delete(slot);
    }
    this.named.set(slot, upTo);
  }
}
