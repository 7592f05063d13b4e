// How a process takes turns with others at the store's lock: how long it
// keeps the lock across its commit groups, and whether it lets another
// process in before taking it again. The lock itself is lock.ts; when to
// take and give it back is the journal's (journal.ts lock, keepLock).

import { lockExists } from '../lock.js';

/**
 * The longest a process keeps the lock across commit groups before letting
 * others have it (holdLockMs) when nobody was seen waiting. Where the folder
 * watch is live, another process that tries to take it gets it once the
 * commit group in flight is done (othersAsked), and from then on the hold
 * is CONTENDED_HOLD_MS; so this bounds the wait of one the watch cannot see
 * (another host on a shared folder).
 * Giving it back and taking it again costs a busy server about ten file
 * operations, each a turn of its event loop, during which creates and strict
 * reads wait: at 50 ms that was a stall of a few ms in every 50 under the
 * mixed load, and the lists' and creates' tail latency with it.
 */
export const HOLD_MS = 250;
/**
 * The longest it keeps the lock across commit groups while another process
 * was lately seen waiting for it (CONTENDED_MS): a writer that commits
 * without pause lets go only when its hold runs out, and the other waits
 * for such a moment (two servers creating keys on one store).
 */
const CONTENDED_HOLD_MS = 50;
/** After another process was seen waiting for the lock, how long this one keeps holds short. */
const CONTENDED_MS = 1_000;
/** The longest othersTurn waits for another process to take the lock: a little more than a waiter's longest sleep between tries (lock.ts). */
const HAND_OFF_MS = 45;
/** How often othersTurn looks whether the lock was taken. */
const HAND_OFF_LOOK_MS = 3;

export class LockTurns {
  /** Until then, holds are short (another process wanted the lock: othersAsked). */
  private contendedUntil = -Infinity;
  /** When another process was last seen asking for the lock, this one last took it, and last gave it back (performance.now(); see othersTurn). */
  private othersAskedAt = -Infinity;
  private takenAt = -Infinity;
  private gaveBackAt = -Infinity;

  /** `holdLimitMs`: the longest hold while nobody is seen waiting (HOLD_MS unless a store says otherwise). */
  constructor(
    private readonly lockPath: string,
    readonly holdLimitMs: number,
  ) {}

  /** Another process was lately seen asking for the lock. */
  get contended(): boolean {
    return performance.now() < this.contendedUntil;
  }

  /** The longest a hold may last now. */
  get holdMs(): number {
    return this.contended ? Math.min(this.holdLimitMs, CONTENDED_HOLD_MS) : this.holdLimitMs;
  }

  /** The folder watch saw another process try to take the lock. */
  othersAsked(): void {
    this.othersAskedAt = performance.now();
    this.contendedUntil = this.othersAskedAt + CONTENDED_MS;
  }

  taken(): void {
    this.takenAt = performance.now();
  }

  gaveBack(): void {
    this.gaveBackAt = performance.now();
  }

  /**
   * Settles when this process may try to take the lock. If another process
   * asked for it since we last took it, it gets its turn first: it sleeps up
   * to 40 ms between tries (lock.ts), and ours, made the moment we let go,
   * won nearly every time — a writer committing without pause kept a second
   * process's create waiting for seconds. So we try once the lock was seen
   * taken by another process, or HAND_OFF_MS after we gave it back, if
   * nobody took it.
   */
  async othersTurn(): Promise<void> {
    if (this.othersAskedAt <= this.takenAt) return;
    const until = this.gaveBackAt + HAND_OFF_MS;
    while (performance.now() < until) {
      if (await lockExists(this.lockPath)) return;
      await new Promise((r) => setTimeout(r, Math.min(HAND_OFF_LOOK_MS, until - performance.now())));
    }
  }
}
