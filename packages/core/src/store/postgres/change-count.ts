// Notices a change whose NOTIFY never came (changes.ts says how one is lost).
// The database counts committed changes to the tenant, users and keys, once
// per transaction (migration 3); every notification of such a change says it
// was counted. The listening connection reads the count with each heartbeat.
// Notifications are sent right behind their COMMIT, so one whose change a
// heartbeat's count already showed has come by the next heartbeat, unless it
// was lost: then the change is taken as unknown, and caches drop everything.

export class ChangeCount {
  /** The count at the first heartbeat of this connection; what came before is not matched. */
  private base?: number;
  /** Changes counted since `base` as of the previous heartbeat. */
  private shown = 0;
  /** Counted notifications heard since `base` (a lost one forgiven once caches were dropped for it). */
  private heard = 0;
  /** Counted notifications heard on this connection, never adjusted; and how many of them before the count now asked. */
  private heardEver = 0;
  private heardWhenAsked?: number;

  /** A notification of a counted change arrived. */
  heardOne(): void {
    this.heardEver++;
    if (this.base !== undefined) this.heard++;
  }

  /**
   * A heartbeat asks the count now. A notification heard after this may be
   * of a change committed after the count's snapshot (PostgreSQL sends it
   * before the count's answer, or in the same packet): the count does not
   * show it yet, the next one will.
   */
  asking(): void {
    this.heardWhenAsked = this.heardEver;
  }

  /**
   * The count a heartbeat read. True when a change the previous heartbeat
   * showed has still had no notification (or the count went backwards: a
   * database restored from a backup): caches must drop everything.
   */
  read(count: number): boolean {
    const sinceAsked = this.heardWhenAsked === undefined ? 0 : this.heardEver - this.heardWhenAsked;
    this.heardWhenAsked = undefined;
    if (this.base === undefined || count - this.base < this.shown) {
      const first = this.base === undefined;
      this.base = count;
      this.shown = 0;
      this.heard = 0;
      return !first;
    }
    const now = count - this.base;
    const missing = this.shown - this.heard;
    if (missing > 0) this.heard += missing;
    // Never more heard than counted, but for notifications heard since the
    // count was asked (of changes it may not show yet; the next count does:
    // dropping them here made a false loss at the next heartbeat). Surplus
    // from before would hide a later loss (a notification of a change that
    // never committed — announce sends none — or of an older Keyward).
    if (this.heard > now + sinceAsked) this.heard = now + sinceAsked;
    this.shown = now;
    return missing > 0;
  }

  /** A new connection: its first heartbeat starts matching afresh. */
  reset(): void {
    this.base = undefined;
  }
}
