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

  /** A notification of a counted change arrived. */
  heardOne(): void {
    if (this.base !== undefined) this.heard++;
  }

  /**
   * The count a heartbeat read. True when a change the previous heartbeat
   * showed has still had no notification (or the count went backwards: a
   * database restored from a backup): caches must drop everything.
   */
  read(count: number): boolean {
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
    // Never more heard than counted (a notification of a change the count did
    // not show yet, or one whose transaction counted nothing): surplus would
    // hide a later loss.
    if (this.heard > now) this.heard = now;
    this.shown = now;
    return missing > 0;
  }

  /** A new connection: its first heartbeat starts matching afresh. */
  reset(): void {
    this.base = undefined;
  }
}
