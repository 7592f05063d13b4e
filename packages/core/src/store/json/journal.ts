// The journal store's mechanics, independent of what a change means: an
// in-memory state (the model) kept equal to snapshot + journal, changes
// appended as self-checking records with group commit, other processes'
// records followed within 100 ms, and compaction in the background.
//
// Invariants (see DESIGN.md, cost model):
// - A change is acknowledged only after its record is fsynced. A commit
//   group is ONE record, so a group cut short by a full disk is an incomplete
//   record that no reader ever applies, and is truncated away.
// - Only a holder of the store's lock appends, truncates a torn tail, or
//   replaces the snapshot or the journal. Readers never change a file.
// - The snapshot is replaced before the journal is rotated, and the rotated
//   journal starts at the snapshot's position: at every instant snapshot +
//   journal holds every acknowledged change.

import { lstat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { KeywardError } from '../../refusal.js';
import { acquireLockAsync } from '../lock.js';
import { HOLD_MS, LockTurns } from './lock-turns.js';
import { EventCopies, recordsOf } from './event-copies.js';
import { type Following, followFolder } from './follow.js';
import { removeDeadWritersLeftovers } from './files.js';
import { JournalFile, type JournalLook } from './journal-file.js';
import { encodeRecord } from './record.js';
import { PARSE_APART_FROM_BYTES, type SnapshotDocument, Snapshot, isVersion1 } from './snapshot.js';
import type { StoreDocument } from '../../domain.js';
import type { StoreChange } from '../boundary.js';
import { ChangeSignal } from '../change-signal.js';
import { storeClosed } from '../closed.js';
import { endOfTurn } from '../end-of-turn.js';

/** What the journal keeps equal to snapshot + journal; entries are opaque JSON to it. */
export interface JournalModel<Entry> {
  /** Replaces the state with a snapshot's (undefined: an empty store). */
  load(state: unknown): void;
  /** Applies one committed entry; answers what it changed (for caches). */
  apply(entry: Entry): Omit<StoreChange, 'version'>;
  /**
   * A commit group's entry, decided but not yet durable: seen by the group's
   * later decisions only, never by reads (they see it once it is applied).
   */
  stage(entry: Entry): void;
  /** Drops what was staged: the group's record is durable (and its entries applied), or it was refused. */
  unstage(): void;
  /** The state as the snapshot keeps it. */
  snapshot(): unknown;
}

export interface JournalOptions<Entry = unknown> {
  /** How often to look for other processes' writes (fs.watch wakes sooner). */
  pollMs?: number;
  /** Compact once the journal past the snapshot holds this many bytes, or the snapshot's size if larger. */
  compactAfterBytes?: number;
  /** A damaged line or record that was skipped, a torn tail cut away. */
  onProblem?: (message: string) => void;
  /** Turns a round-1 document (and its event log) into the first snapshot state and entries. */
  migrate?: (doc: StoreDocument) => Promise<{ state: unknown; entries: unknown[] }>;
  /** What is kept from each record outside the snapshot (the events' day segments). */
  copy?: JournalCopy<Entry>;
  /** How long after a commit its copy is made durable in the background, if no compaction did so first (default 30 s). */
  settleAfterMs?: number;
  /** Tests kill the process here: a group's record durable, nothing copied yet. */
  afterRecordDurable?: () => void;
  /** The longest this process keeps the store's lock across commit groups (default HOLD_MS; see keepLock). */
  holdLockMs?: number;
}

/** The journal's whole records from a position on, for a copy to catch up from. */
export type RecordsFrom<Entry> = (from: number) => Promise<{ entries: Entry[]; end: number }[]>;

/**
 * A copy of what the records carry, kept outside the snapshot (the events in
 * their day segments, journal-events.ts). The journal is its durable point:
 * the copy is written after a record's fsync, under the lock, and completed
 * from the records when a crash left it short; the journal lets go of a
 * record only once its copy is durable (settle).
 */
export interface JournalCopy<Entry> {
  /** Under the lock: copies every record before `to` (`group`: the records just appended from `from`, never copied before). */
  copy(to: number, records: RecordsFrom<Entry>, group?: { from: number; entries: Entry[] }): Promise<void>;
  /** Under the lock, before the journal drops records before `to`: copies them and makes the copy durable; throws when it cannot. */
  settle(to: number, records: RecordsFrom<Entry>): Promise<void>;
  /** Without the lock (on open): whether records before `to` may not be copied yet. */
  behind(to: number): Promise<boolean>;
  /** Under the lock, before it is given back: records how far the copy got (copy may leave that to here). */
  mark(): Promise<void>;
  /** Under the lock, before a record is appended at `from`: a crash after that append must find where copying stood. */
  prepare(from: number): Promise<void>;
}

export interface Work<Entry, T> {
  entry?: Entry;
  result: T;
}

interface Pending<Entry> {
  work: () => Promise<Work<Entry, unknown>>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

interface HeldLock {
  release: () => Promise<void>;
  since: number;
  /** Gives the lock back HOLD_MS after it was taken (keepLock). */
  timer?: NodeJS.Timeout;
}

/** The size an identity (snapshotIdentity) names. */
function sizeOf(id: string): number {
  return Number(id.split(':')[1]);
}

/** A file as its identity begins (snapshotIdentity): what a rename leaves as it was. */
function fileOf(st: { ino: bigint; size: bigint; mtimeNs: bigint }): string {
  return `${st.ino}:${st.size}:${st.mtimeNs}:`;
}

export function journalPathFor(storePath: string): string {
  return storePath.replace(/\.json$/i, '') + '.journal';
}

const defaultProblem = (message: string) => process.emitWarning(message, 'KeywardStoreWarning');

/** SPEC §4: a change another process acknowledged reaches this one's caches within this long. */
const SEEN_WITHIN_MS = 100;

export class Journal<Entry> {
  readonly journalPath: string;
  readonly lockPath: string;
  private readonly snapshotFile: Snapshot;
  private journal?: JournalFile;
  /** Journal position the model includes. */
  private position = 0;
  private snapshotPosition = 0;
  private snapshotBytes = 0;
  private loaded = false;
  /** Whether a store file exists (as far as this process has seen). */
  private present = false;
  private readonly signal = new ChangeSignal();
  // In-process exclusion: loading, following, commits and compaction take turns on the model.
  private turn: Promise<unknown> = Promise.resolve();
  private busy = false;
  /** The follower was woken while a turn ran: it catches up once that turn ends. */
  private wokenInTurn = false;
  private pending: Pending<Entry>[] = [];
  private flushing = false;
  private compacting = false;
  private swept = false;
  /** The store's lock while this process holds it across commit groups (keepLock). */
  private held?: HeldLock;
  /** How long it keeps the lock, and whether another process goes first. */
  private readonly turns: LockTurns;
  private settleTimer?: NodeJS.Timeout;
  /** A compaction waits for the lock: commits give it back after each group. */
  private lockWanted = false;
  private snapshotId?: string;
  /**
   * The snapshot this process's compaction is putting in place (fileOf its
   * temporary file: a rename changes only its ctime). Its follower, woken by
   * that rename before the compaction notes the new snapshotId, knows it
   * without reading it: that read was a JSON.parse of the whole store (34 MB
   * at 100k keys), the longest stall of a compacting server, 1.2-1.5 s on a
   * busy machine, with the garbage collection of it after.
   */
  private ownSnapshot?: string;
  /** A snapshot being checked while reads go on (checkLater), and the last one such a check found wrong. */
  private checking?: string;
  private snapshotFault?: string;
  /** Settles once checkLater's last check has said what it found (never rejects): a write under the lock waits for it (snapshotChecked). */
  private checked?: Promise<void>;
  /**
   * The follower met something it could not read (a snapshot replaced by hand,
   * damage): until a catch-up succeeds, reads skip their one-fstat shortcut.
   */
  private followerFailed = false;
  /**
   * When the last catch-up that reached the journal's end began
   * (performance.now()): until pollMs after it, a read trusts the follower
   * and looks at no file — the staleness the verifier's cache already
   * accepts, bounded by the poll interval (fs.watch usually wakes sooner).
   */
  private confirmedAt = -Infinity;
  private following?: Following;
  /** When the follower's poll last ran (performance.now()): every pollMs while the event loop turns. */
  private polledAt = -Infinity;
  /** The poll ran late: the event loop was held, the follower with it (see catchingUp). */
  private loopHeld = false;
  /** After a hold, the strict look that cached answers wait for (see catchingUp). */
  private lookAfterHold?: Promise<void>;
  /**
   * The lock as held when this process's model last ended exactly where the
   * journal does, under it (a commit group done). While it is still `held`,
   * nobody else can have appended: a strict read needs no look, and a change
   * the watch tells of to the journal then is our own append (or one made
   * before we took the lock, which the catch-up under it applied), never one
   * to catch up with.
   */
  private caughtUpUnder?: HeldLock;
  /** The copies of this process's appended groups, one after another beside the next groups' appends (event-copies.ts). */
  private readonly copies: EventCopies<Entry>;
  /**
   * Reads that must look, waiting for this process's commit group to catch
   * up under the lock (see fresh): true when a catch-up begun after they
   * were asked answers them instead (followingWhile), false to look again.
   */
  private caughtUpWaiters: ((caughtUp: boolean) => void)[] = [];
  /** While a turn waits for the lock: wakes it to catch up for a read just asked (followingWhile). */
  private readAsked?: () => void;
  /** close() was called: what is asked from then on is refused (closed.ts); turns asked before still run. */
  private closed = false;
  /** close() has given back the lock and closed the journal: a turn that starts now would open them again, and is refused. */
  private shut = false;
  private closing?: Promise<void>;
  /** Compactions under way: close() lets them finish first, so none writes a snapshot or a journal after it returned. */
  private readonly compactions = new Set<Promise<void>>();
  private readonly onProblem: (m: string) => void;

  constructor(
    readonly path: string,
    private readonly model: JournalModel<Entry>,
    private readonly opts: JournalOptions<Entry> = {},
  ) {
    this.journalPath = journalPathFor(path);
    this.lockPath = path + '.lock';
    this.turns = new LockTurns(this.lockPath, opts.holdLockMs ?? HOLD_MS);
    this.snapshotFile = new Snapshot(path);
    this.onProblem = opts.onProblem ?? defaultProblem;
    this.copies = new EventCopies(opts.copy, this.journalPath, this.onProblem);
  }

  /** Grows with every change this process has applied, its own and others'. */
  version(): number {
    return this.signal.version();
  }

  exists(): boolean {
    return this.present;
  }

  onChange(listener: (c: StoreChange) => void): () => void {
    return this.signal.onChange(listener);
  }

  /** Tells listeners of a change the journal does not carry (events, usage). */
  changed(change: Omit<StoreChange, 'version'>): void {
    this.emit([change]);
  }

  /**
   * Loads on first use, then applies whatever other processes appended since.
   * Answers true when it looked at nothing because the follower confirmed the
   * journal less than pollMs ago (what other processes did in that time may
   * not be applied yet). A `strict` read sees every change acknowledged
   * before it was asked — a reader that found nothing asks again strictly,
   * so a key or user just created elsewhere is found, and lists are strict.
   *
   * A strict read looks at the journal (one fstat when nothing was
   * appended), unless this process still holds the lock it last caught up
   * under: then nobody else can have appended. The watch is no proof that
   * nothing was: its event for another process's append can reach us after
   * that process's acknowledgement does (seen under load: acknowledgements
   * read, and the lists asked then answered, 30-80 ms before the watch's
   * callback ran for the appends they acknowledged), so a list that trusted
   * "nothing heard" missed records acknowledged before it was asked.
   *
   * While a commit group of this process is taking the lock, a read that
   * must look (a strict one, or one the follower cannot vouch for) waits for
   * it to have caught up under the lock, not for its whole turn (its append
   * and its copy, behind which a look would queue): from then
   * on, nobody else can append until we let go, so the model holds every
   * record acknowledged before the read was asked — and none of the group's,
   * which reads meet only once its record is durable. While the group still
   * waits for the lock (another process keeps it and commits), a catch-up
   * begun after the read was asked answers it (followingWhile): every record
   * acknowledged before it is in the journal by then.
   */
  async fresh(strict = false): Promise<boolean> {
    if (this.closed) throw storeClosed(this.path);
    if (!strict && this.followed()) {
      await endOfTurn();
      return true;
    }
    if (this.flushing && !this.holdsCaughtUp()) {
      const caughtUp = await new Promise<boolean>((resolve) => {
        this.caughtUpWaiters.push(resolve);
        this.readAsked?.();
      });
      // A catch-up begun after this read was asked, while the group still waits for the lock.
      if (caughtUp) return false;
    }
    if (this.holdsCaughtUp()) {
      await endOfTurn();
      if (this.holdsCaughtUp()) return true;
    }
    await this.look();
    return false;
  }

  /**
   * For a cache that answers from onChange alone (the verifier's), at its
   * first answer of each turn of the event loop: undefined while it may
   * answer; else a strict look, settled once every change acknowledged
   * before it is told. A long synchronous task holds the follower's watch
   * and poll back with the loop, and the requests that waited are read as
   * the loop comes back, before any catch-up (trips through the threadpool)
   * can end: a key revoked elsewhere 150 ms before was still accepted from
   * the cache. The poll notices the hold by its own lateness; where the
   * task ran in a timer's callback, the sockets are read before the poll
   * runs (the timers phase judges which timers are due by the time it
   * began), and the poll is found overdue here instead. Only then is the
   * journal looked at, on this thread (one fstat): where nothing was
   * appended since the model's position, the cache may answer at once.
   * While the loop turns this costs a clock read a turn, and nothing a
   * hit: a loop that does not turn (a synchronous loop of verifies) is a
   * hold, noticed once it turns again. (6b27052 looked at the follower's
   * age at every hit instead: a loop of verifies went to the journal
   * after 100 ms, and a server between polls; reverted in 4f0223a.)
   */
  catchingUp(): Promise<void> | undefined {
    if (this.lookAfterHold) return this.lookAfterHold;
    if (!this.loopHeld && performance.now() - this.polledAt <= this.heldPastMs) return undefined;
    this.loopHeld = false;
    if (this.closed || !this.loaded || this.holdsCaughtUp()) return undefined;
    if (!this.followerFailed && this.journal?.unchangedNow(this.position)) return undefined;
    const look = this.fresh(true).then(() => undefined);
    const done = () => {
      if (this.lookAfterHold === look) this.lookAfterHold = undefined;
    };
    look.then(done, done);
    return (this.lookAfterHold = look);
  }

  /** The poll's own lateness tells that the event loop was held (catchingUp). */
  private polled(): void {
    const now = performance.now();
    if (now - this.polledAt > this.heldPastMs) this.loopHeld = true;
    this.polledAt = now;
  }

  /** A poll more than this long after the last one was held back: past what SPEC §4 allows, or past the poll interval where a test sets a longer one. */
  private get heldPastMs(): number {
    return Math.max(SEEN_WITHIN_MS, this.pollMs);
  }

  /** The follower is live, healthy, and caught up less than pollMs ago. */
  private followed(): boolean {
    return this.loaded && !this.followerFailed && !this.closed && this.following !== undefined && performance.now() - this.confirmedAt <= this.pollMs;
  }

  /** Still holding the lock under which the model last ended where the journal does: only we can have appended since (see caughtUpUnder). */
  private holdsCaughtUp(): boolean {
    return this.loaded && !this.followerFailed && !this.closed && this.held !== undefined && this.caughtUpUnder === this.held;
  }

  private get pollMs(): number {
    return this.opts.pollMs ?? 50;
  }

  private look(): Promise<void> {
    // Readers share one catch-up (a fstat, mostly): it waits for the end of
    // the event loop's turn, as trusted reads do, so it starts after every
    // reader of that turn asked (each still sees every change made before its
    // call), and a busy server does one per turn instead of one per request.
    // Once it starts, a reader asking anew queues the next one.
    if (this.queuedFresh) return this.queuedFresh;
    const queued: Promise<void> = endOfTurn()
      .then(() =>
        this.exclusive(() => {
          if (this.queuedFresh === queued) this.queuedFresh = undefined;
          return this.loaded ? this.readerCatchUp() : this.open();
        }),
      )
      .finally(() => {
        if (this.queuedFresh === queued) this.queuedFresh = undefined;
      });
    this.queuedFresh = queued;
    return queued;
  }
  private queuedFresh?: Promise<void>;

  /** The model as of the last fresh()/commit, without I/O (the verify path). */
  get isLoaded(): boolean {
    return this.loaded;
  }

  /**
   * Runs `work` under the store's lock on fresh state and commits its entry
   * durably with whatever else this process commits at the same moment (one
   * write, one fsync). A throwing `work` commits nothing.
   */
  commit<T>(work: () => Promise<Work<Entry, T>> | Work<Entry, T>): Promise<T> {
    if (this.closed) return Promise.reject(storeClosed(this.path));
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ work: async () => work(), resolve: resolve as (v: unknown) => void, reject });
      if (!this.flushing) {
        this.flushing = true;
        void this.exclusive(() => this.flush());
      }
    });
  }

  /** Creates the files of an empty store unless they exist; runs under the lock. */
  async ensureCreated(): Promise<void> {
    if (this.closed) throw storeClosed(this.path);
    await this.exclusive(async () => {
      const took = await this.lock();
      try {
        await this.load();
        if (!this.present) {
          // Journal first: a snapshot without its journal would not open.
          await JournalFile.create(this.journalPath, 0);
          await this.snapshotFile.write({ version: 2, position: 0, state: this.model.snapshot() } satisfies SnapshotDocument);
          this.loaded = false;
          await this.load();
        }
      } finally {
        if (took) await this.unlock();
      }
    });
  }

  /**
   * Lets the turns already asked for finish (a commit group, a read's
   * catch-up), then gives the lock back and closes the journal in a turn of
   * its own: a turn asked for later (a read asked in the same turn as
   * close(), whose catch-up waits for the end of it) is refused instead of
   * opening the journal again. A compaction under way finishes before that
   * turn is asked for (its own turns, asked after, would be refused midway):
   * once close() returns, another process may take the store over.
   */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closed = true;
    this.following?.stop();
    clearTimeout(this.settleTimer);
    this.closing = Promise.allSettled([...this.compactions]).then(() =>
      this.exclusive(async () => {
        await this.copies.made();
        await this.unlock();
        await this.journal?.close().catch(() => undefined);
        this.journal = undefined;
        // A big snapshot's check still under way (checkLater: the turns that waited for one are done) is stopped.
        await this.snapshotFile.close();
        this.shut = true;
      }),
    );
    return this.closing;
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.turn.then(async () => {
      if (this.shut) throw storeClosed(this.path);
      this.busy = true;
      try {
        return await fn();
      } finally {
        this.busy = false;
        if (this.wokenInTurn) {
          this.wokenInTurn = false;
          this.wake();
        }
      }
    });
    this.turn = run.catch(() => undefined);
    return run;
  }

  private emit(changes: Omit<StoreChange, 'version'>[]): void {
    if (changes.length === 0) return;
    const merged = { keyIds: new Set<string>(), userIds: new Set<string>(), tenant: false, all: false };
    for (const c of changes) {
      for (const id of c.keyIds ?? []) merged.keyIds.add(id);
      for (const id of c.userIds ?? []) merged.userIds.add(id);
      merged.tenant ||= !!c.tenant;
      merged.all ||= !!c.all;
    }
    if (merged.all) return this.signal.changed({ all: true });
    const out: { keyIds?: string[]; userIds?: string[]; tenant?: boolean } = {};
    if (merged.keyIds.size) out.keyIds = [...merged.keyIds];
    if (merged.userIds.size) out.userIds = [...merged.userIds];
    if (merged.tenant) out.tenant = true;
    this.signal.changed(out);
  }

  /** The first load: and when a crash left the copy of records short, it is completed now, under the lock. */
  private async open(): Promise<void> {
    await this.load();
    if (!this.opts.copy || !this.journal || !(await this.opts.copy.behind(this.position))) return;
    await this.caughtUpUnderLock(() => this.copies.copyTo(this.journal, this.position));
  }

  /** Runs `work` under the lock, the model caught up with the journal first (unless we held the lock already: nobody else wrote). */
  private async caughtUpUnderLock(work: () => Promise<void>): Promise<void> {
    const took = await this.lock();
    try {
      if (took) {
        await this.catchUp(true);
        await this.snapshotChecked();
      }
      await work();
    } finally {
      if (took) await this.unlock();
    }
  }

  /**
   * Takes the store's lock for this process (in a turn); false when it still
   * holds it from its last commit group (see keepLock), and so nobody else
   * has written since.
   */
  private async lock(): Promise<boolean> {
    // Held as long as a hold may last already (shorter while others wait), or a compaction waits: given back, so others get their turn.
    if (this.held && (this.lockWanted || Date.now() - this.held.since >= this.turns.holdMs)) await this.unlock();
    if (this.held) return false;
    this.held = { release: await this.followingWhile(this.turns.othersTurn().then(() => acquireLockAsync(this.lockPath))), since: Date.now() };
    this.turns.taken();
    return true;
  }

  /**
   * Waits for the lock (`taking`) while still following the journal, every
   * pollMs: the turn that waits holds back every other turn of this process,
   * the follower's wakes included (they do nothing while a turn runs), and
   * another process may commit for as long as it keeps the lock — a key it
   * revokes must still reach this process's caches (the verifier's) within
   * the poll interval, not once the lock comes. A read that must look,
   * asked meanwhile (a list), wakes a catch-up at once and is answered by it,
   * instead of waiting for the lock with the commit.
   */
  private async followingWhile<T>(taking: Promise<T>): Promise<T> {
    let taken = false;
    const settled = taking.finally(() => (taken = true));
    const canFollow = () => this.loaded && !this.closed && this.journal !== undefined;
    while (!taken) {
      if (!(canFollow() && this.caughtUpWaiters.length > 0)) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([settled.catch(() => undefined), new Promise<void>((r) => ((timer = setTimeout(r, this.pollMs)), (this.readAsked = r)))]);
        clearTimeout(timer);
        this.readAsked = undefined;
      }
      if (taken || !canFollow()) continue;
      // The reads asked before this catch-up begins: it answers them, unless it failed (then they look as usual).
      const asked = this.caughtUpWaiters.splice(0);
      await this.follow();
      for (const answer of asked) answer(!this.followerFailed);
    }
    return settled;
  }

  /** Gives the lock back (in a turn), after marking how far the copy got, for the next holder. */
  private async unlock(): Promise<void> {
    const held = this.held;
    if (!held) return;
    this.held = undefined;
    clearTimeout(held.timer);
    try {
      await this.copies.made(); // the mark says how far the copies got: they are all made first
      await this.opts.copy?.mark();
    } catch (e) {
      this.onProblem(`Marking how far the events of ${this.journalPath} were copied failed (${(e as Error).message}); the next writer checks the copy again.`);
    } finally {
      await held.release();
      this.turns.gaveBack();
    }
  }

  /**
   * Under the lock, once the model ends where the journal does (caught up
   * when we took the lock, and only we appended since): reads may trust it
   * as of now, strict ones too while we still hold this lock, and what the
   * watch tells meanwhile — our own appends, the first group's of a hold
   * included — needs no catch-up.
   */
  private confirmedUnderLock(): void {
    if (!this.held) return;
    this.caughtUpUnder = this.held;
    this.confirmedAt = performance.now();
    this.wakeCaughtUpWaiters();
  }

  /** Strict reads waiting on a commit group ask again (it caught up under the lock, or the flush is over without). */
  private wakeCaughtUpWaiters(): void {
    const waiters = this.caughtUpWaiters;
    this.caughtUpWaiters = [];
    for (const wake of waiters) wake(false);
  }

  /**
   * After a commit group: a process that commits again soon (the next create
   * of a loop, a server's steady trickle of creates) keeps the lock instead
   * of giving it back and taking it again (six file operations, each a turn
   * of a busy event loop) and skips reading what nobody else could have
   * written meanwhile. Where the folder watch is live, it keeps the lock for
   * up to HOLD_MS, and gives it back at once when the watch sees another
   * process try to take it (othersWaiting); for a while after that (LockTurns.contended), and
   * where nothing watches, it lets go once a turn passes with nothing more to
   * commit, so that other processes get their turn.
   */
  private keepLock(): void {
    if (!this.held) return;
    const held = this.held;
    // Given back in a turn of its own, after the group's callers have their answer.
    const giveBack = (onlyIfIdle: boolean) =>
      void this.exclusive(async () => {
        if (this.held === held && (!onlyIfIdle || this.pending.length === 0)) await this.unlock();
      }).catch(() => undefined); // refused only once closed, and close() gave the lock back itself
    if (this.closed || this.lockWanted) giveBack(false);
    else if (this.following?.watching && !this.turns.contended) {
      held.timer ??= setTimeout(() => giveBack(false), Math.max(0, held.since + this.turns.holdLimitMs - Date.now()));
    } else setImmediate(() => giveBack(true));
  }

  /** The watch saw another process try to take the lock: it has it as soon as our commit group (if any) is done. */
  private othersWaiting(): void {
    this.turns.othersAsked();
    const held = this.held;
    if (!held || this.closed) return;
    void this.exclusive(async () => {
      if (this.held === held) await this.unlock();
    });
  }

  /** Reads the snapshot and replays the journal from its position. */
  private async load(attempt = 0): Promise<void> {
    const doc = await this.snapshotFile.read();
    await this.journal?.close().catch(() => undefined);
    this.journal = undefined;
    if (doc === null) {
      this.model.load(undefined);
      this.position = this.snapshotPosition = 0;
      this.present = false;
    } else if (isVersion1(doc)) {
      await this.migrate(doc);
      return;
    } else {
      this.model.load(doc.state);
      this.position = this.snapshotPosition = doc.position;
      this.snapshotBytes = this.snapshotFile.readBytes;
      this.present = true;
      this.snapshotId = await this.snapshotIdentity();
      this.journal = await JournalFile.open(this.journalPath, true);
      try {
        if (this.journal && !this.journal.contains(this.position)) {
          // A compaction may have replaced both files between our two reads
          // (snapshot first, then journal): read the newer snapshot.
          if (attempt < 3) {
            await this.journal.close();
            this.journal = undefined;
            return this.load(attempt + 1);
          }
          throw new KeywardError('STORE_CORRUPT', `The journal ${this.journalPath} starts after the snapshot ${this.path} ends; changes are missing. Both were left untouched.`);
        }
        if (this.journal) await this.replay(false);
      } catch (e) {
        await this.journal?.close().catch(() => undefined);
        this.journal = undefined;
        throw e;
      }
    }
    this.loaded = true;
    this.emit([{ all: true }]);
    if (!this.following && !this.closed) {
      const journalName = basename(this.journalPath);
      const storeNames = new Set([basename(this.path), journalName]);
      // Another process's attempt at the lock (lock.ts names it <lock>.<pid>.<random>.acquiring).
      const lockName = basename(this.lockPath) + '.';
      const ownAttempt = `${lockName}${process.pid}.`;
      const othersAttempt = (name: string) => name.startsWith(lockName) && name.endsWith('.acquiring') && !name.startsWith(ownAttempt);
      this.polledAt = performance.now();
      this.following = followFolder(dirname(this.path), this.pollMs, (heard, name) => {
        if (!heard) this.polled();
        if (name !== undefined && othersAttempt(name)) return this.othersWaiting();
        // Our own append's event costs no catch-up (see caughtUpUnder); one
        // that arrives after we let go of the lock wakes a catch-up that finds
        // the journal ending where we are (one fstat).
        if (heard && name === journalName && this.held !== undefined && this.caughtUpUnder === this.held) return;
        this.wake();
      }, (name) => storeNames.has(name) || othersAttempt(name));
    }
  }

  /** A round-1 store: under the lock, its document and events become a journal and a snapshot. */
  private async migrate(doc: StoreDocument): Promise<void> {
    if (!this.opts.migrate) throw new KeywardError('STORE_CORRUPT', `The store ${this.path} is of an older version that this build cannot read; it was left untouched.`);
    const took = await this.lock();
    try {
      const again = await this.snapshotFile.read();
      if (again && isVersion1(again)) {
        const { state, entries } = await this.opts.migrate(again);
        // The journal (with round 1's events) first, then the snapshot over the
        // old document: a crash between the two leaves the old document, and
        // the migration runs again from it.
        const records = Buffer.concat(entries.map((e) => encodeRecord({ txs: [e] })));
        await JournalFile.create(this.journalPath, 0, records);
        await this.snapshotFile.write({ version: 2, position: 0, state } satisfies SnapshotDocument);
      }
    } finally {
      if (took) await this.unlock();
    }
    await this.load();
  }

  private wake(): void {
    if (this.closed || !this.loaded) return;
    // Kept, not dropped, while a turn runs: the turn may have looked at the
    // journal's size before the append this wake tells of (a reader's fstat,
    // a catch-up reading the tail), and then nothing looks again until the
    // next poll — on a busy machine, hundreds of ms later.
    if (this.busy) {
      this.wokenInTurn = true;
      return;
    }
    void this.exclusive(() => this.follow());
  }

  /** The follower's catch-up (in a turn). */
  private follow(): Promise<void> {
    return this.confirming(() => this.catchUp(false)).catch((e) => {
      // Every read now takes the full catch-up, and so meets the damage itself.
      this.followerFailed = true;
      this.onProblem(`Following the store ${this.path}: ${(e as Error).message}`);
    });
  }

  /** Who the snapshot file is: it changes only by compaction, so any other change is damage to notice. */
  private async snapshotIdentity(): Promise<string | undefined> {
    try {
      const st = await lstat(this.path, { bigint: true });
      return `${fileOf(st)}${st.ctimeNs}`;
    } catch {
      return undefined;
    }
  }

  /**
   * A snapshot replaced by something else than a compaction (a hand edit, a
   * restore, damage) is read again: one that does not parse stops every
   * read and write with STORE_CORRUPT, and is never overwritten.
   */
  private async checkSnapshot(wait = true): Promise<boolean> {
    const id = await this.snapshotIdentity();
    if (id === this.snapshotId) return true;
    if (id !== undefined && this.ownSnapshot !== undefined && id.startsWith(this.ownSnapshot)) {
      this.snapshotId = id;
      return true;
    }
    if (!wait && id !== undefined && id !== this.snapshotFault && sizeOf(id) >= PARSE_APART_FROM_BYTES) {
      this.checkLater(id);
      return true;
    }
    // Only checked here, not kept: a big one is parsed off the event loop.
    const doc = await this.snapshotFile.check(id === undefined ? 0 : sizeOf(id));
    if (doc === null || doc.version === 1 || doc.position > this.position) return false;
    this.snapshotId = id;
    return true;
  }

  /**
   * A big snapshot another process put in place, checked while the follower
   * and reads go on: what they answer comes from the journal (a compaction
   * starts the new one at the snapshot's position, and a reader behind that
   * reads the store again, catchUp), so only damage is left to find, and
   * waiting for that check (a second on a busy machine, for 34 MB) held up
   * every read that had to look at the journal. Found good, it is noted;
   * found wrong, the follower checks it again, waiting, and meets what is
   * wrong as before (STORE_CORRUPT from then on, or a reload). Commits
   * (under the lock) and compactions always wait for the check.
   */
  private checkLater(id: string): void {
    if (this.checking === id) return;
    this.checking = id;
    const was = this.snapshotId;
    const good = this.snapshotFile.check(sizeOf(id)).then(
      (doc) => doc !== null && doc.version !== 1 && doc.position <= this.position,
      () => false,
    );
    this.checked = good.then(async (ok) => {
      try {
        // Closed meanwhile (close() stopped the check): nobody is told anything any more.
        if (this.closed) return;
        if (!ok) {
          this.snapshotFault = id;
          return this.wake();
        }
        // Still the file checked, and nothing noted another meanwhile.
        if (this.snapshotId === was && (await this.snapshotIdentity()) === id && this.snapshotId === was) this.snapshotId = id;
      } finally {
        // Only once what it found is noted: no check under way means its answer is in.
        if (this.checking === id) this.checking = undefined;
      }
    });
  }

  /**
   * Under the lock, after its catch-up, before anything is written: the
   * snapshot checked, waiting for a check under way (checkLater), so a write
   * never goes on over a snapshot found damaged (STORE_CORRUPT), or one
   * that is ahead of the model (read again).
   */
  private async snapshotChecked(): Promise<void> {
    const checking = this.checking !== undefined;
    await this.checked;
    if (!(await this.checkSnapshot(true))) return this.load();
    // Found good: now a torn tail the catch-up left (nothing is cut while the snapshot may be damaged) is cut.
    if (checking) await this.catchUp(true);
  }

  /**
   * A read's catch-up: one fstat of the journal, when nothing was appended
   * and no compaction replaced it (the common case, and a busy server does
   * one per turn). A snapshot replaced by other means than a compaction is
   * noticed by the follower and by writers, which check it too.
   */
  private readerCatchUp(): Promise<void> {
    return this.confirming(async () => {
      if (!this.followerFailed && this.journal && (await this.journal.unchangedAt(this.position))) return;
      await this.catchUp(false);
      this.followerFailed = false;
    });
  }

  /** Runs a catch-up; once it succeeds, reads may trust the journal as of its start for pollMs. */
  private async confirming(catchUp: () => Promise<void>): Promise<void> {
    const began = performance.now();
    try {
      await catchUp();
    } catch (e) {
      this.confirmedAt = -Infinity;
      throw e;
    }
    this.confirmedAt = began;
  }

  private async catchUp(underLock: boolean): Promise<void> {
    let looked: JournalLook | undefined;
    if (this.journal) {
      // The snapshot's lstat and the journal's fstat go together: each is a
      // trip through libuv's threadpool, ms apiece on a loaded machine, and
      // one after another (with the scan's own fstat) a follower's catch-up
      // took four — traced under load, 60-90 ms from the watch's event for
      // an append to onChange, most of SPEC §4's 100 ms. Both begin after
      // the catch-up did, so it still finds every append made before it.
      const snapshotWas = this.snapshotId;
      // Under the lock too a big snapshot's check goes on beside the replay:
      // the turn holds back the follower, so records another process
      // acknowledged before we took the lock reach reads (a revoke, the
      // verifier's cache) only from this replay. Waiting for the check
      // first left them unseen for as long as it took, with the event loop
      // free to answer from what was known before. Writes wait for the
      // check after it (snapshotChecked).
      const [whole, look] = await Promise.all([this.checkSnapshot(false), this.journal.look().catch(() => undefined)]);
      if (!whole) return this.load();
      // A compaction replaced the snapshot, and may have replaced the journal after our fstat: look again.
      if (this.snapshotId === snapshotWas && this.checking === undefined) looked = look;
    }
    // A torn tail is cut under the lock once the snapshot is known good (snapshotChecked cuts it then).
    const cut = underLock && this.checking === undefined;
    if (!this.journal) {
      // No store yet when we loaded, or it lost its journal: look again.
      const journal = await JournalFile.open(this.journalPath, true);
      if (!journal) return;
      await journal.close();
      return this.load();
    }
    looked ??= await this.journal.look();
    if (!looked.current) {
      // A compaction replaced the journal. Nothing is appended to the old one
      // any more (its length is final): finish it, then continue in the new
      // one where we are.
      await this.replay(cut, looked);
      await this.journal.close();
      this.journal = await JournalFile.open(this.journalPath, true);
      if (!this.journal || !this.journal.contains(this.position) || (await this.journal.end()) < this.position) return this.load();
      this.snapshotPosition = this.journal.start;
      looked = undefined;
    }
    await this.replay(cut, looked);
  }

  /** Applies records appended (by anyone) past our position (up to where `looked` found the end). Under the lock, a torn tail is cut away. */
  private async replay(underLock: boolean, looked?: JournalLook): Promise<void> {
    const journal = this.journal!;
    const scanned = await journal.scan(this.position, looked);
    if (scanned.endsBefore) {
      // Shorter than the snapshot says it holds: not something reading again mends.
      if (this.position === this.snapshotPosition) throw new KeywardError('STORE_CORRUPT', `The journal ${this.journalPath} ends before the snapshot ${this.path} does; changes are missing. Both were left untouched.`);
      // A writer cut back a record we had applied (its append was refused
      // after another process read it): what we hold is not the store's.
      this.onProblem(`The journal ${this.journalPath} ends before what this process had read (a refused change was cut away); the store was read again.`);
      return this.load();
    }
    const changes: Omit<StoreChange, 'version'>[] = [];
    for (const r of scanned.records) {
      for (const entry of (r.payload as { txs: Entry[] }).txs ?? []) changes.push(this.model.apply(entry));
      this.position = r.end;
    }
    if (scanned.tail === 'bad' && scanned.damagedInMiddle) {
      throw new KeywardError('STORE_CORRUPT', `The journal ${this.journalPath} is damaged at position ${scanned.end}, before changes that were acknowledged; it was left untouched. Restore the store from a backup.`);
    }
    if (underLock && scanned.tail !== 'clean') {
      // Nobody else is writing (we hold the lock): this is what a writer
      // killed mid-append left. It was never acknowledged.
      await journal.truncate(scanned.end);
      this.onProblem(`The journal ${this.journalPath} ended in a record cut short (a writer stopped mid-write); it was removed. Nothing acknowledged was lost.`);
    }
    this.emit(changes);
  }

  private async flush(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0);
        await this.commitGroup(batch);
      }
    } finally {
      this.flushing = false;
      this.wakeCaughtUpWaiters();
    }
  }

  private async commitGroup(batch: Pending<Entry>[]): Promise<void> {
    try {
      // Still holding the lock from the last group: nobody else has written since.
      const took = await this.lock();
      if (!this.loaded) await this.load();
      else if (took) {
        await this.catchUp(true);
        // Every record acknowledged before is applied: reads go on while a big snapshot's check ends.
        this.confirmedUnderLock();
        await this.snapshotChecked();
      }
      if (!this.present || !this.journal) throw new KeywardError('UNAVAILABLE', `There is no Keyward store at ${this.path}; run \`keyward init\` to create one.`);
      // Caught up under the lock: from here on the journal changes only by our appends, whose watch events need no look.
      this.confirmedUnderLock();
      if (!this.swept) {
        this.swept = true;
        await removeDeadWritersLeftovers(this.path);
        await removeDeadWritersLeftovers(this.journalPath);
        // Half-taken and half-broken locks of writers killed in the act.
        await removeDeadWritersLeftovers(this.lockPath, '.acquiring');
        await removeDeadWritersLeftovers(this.lockPath, '.stale');
      }
    } catch (e) {
      await this.unlock();
      for (const p of batch) p.reject(e);
      return;
    }
    const entries: Entry[] = [];
    const done: { p: Pending<Entry>; result: unknown }[] = [];
    let copied: Promise<void> = Promise.resolve();
    const changes: Omit<StoreChange, 'version'>[] = [];
    try {
      for (const p of batch) {
        let w: Work<Entry, unknown>;
        try {
          w = await p.work();
        } catch (e) {
          p.reject(e); // its writes were never applied
          continue;
        }
        if (w.entry !== undefined) {
          // Staged so the next transaction of the group sees it; reads see
          // nothing of the group until its record is durable.
          this.model.stage(w.entry);
          entries.push(w.entry);
        }
        done.push({ p, result: w.result });
      }
      if (entries.length > 0) {
        const before = this.position;
        await this.opts.copy?.prepare(before);
        const end = await this.journal.append(encodeRecord({ txs: entries }), before);
        // Durable: from here on the group is committed, whatever its copy
        // does, and reads see it (applied in the turn the append returned).
        this.model.unstage();
        for (const entry of entries) changes.push(this.model.apply(entry));
        this.position = end;
        this.opts.afterRecordDurable?.();
        copied = this.copies.copyTo(this.journal, end, { from: before, entries });
        this.settleLater();
      }
    } catch (e) {
      // Refused before its record was durable (append cut the file back; a
      // torn tail left anyway is cut by the next holder of the lock): the
      // model never held the group's entries, so it is exactly as before. A
      // whole record the disk would not let append cut back (OUTCOME_UNKNOWN)
      // is applied by the next catch-up, here as in every reader.
      this.model.unstage();
      await this.unlock();
      this.emit(changes); // empty, unless what failed came after the record was durable
      for (const { p } of done) p.reject(e);
      return;
    }
    this.confirmedUnderLock();
    this.keepLock();
    this.emit(changes);
    // Answered once the group's events are in their segments too (an events
    // list asked on the answer finds them); the next group need not wait.
    void copied.then(() => {
      for (const { p, result } of done) p.resolve(result);
    });
    this.maybeCompact();
  }

  /**
   * The copy (written without an fsync) is made durable in the background a
   * while after a commit: after a power cut, only what came since has to be
   * checked against the journal, not everything since the last compaction.
   */
  private settleLater(): void {
    if (!this.opts.copy || this.settleTimer || this.closed) return;
    this.settleTimer = setTimeout(() => {
      this.settleTimer = undefined;
      void this.exclusive(async () => {
        if (this.closed || !this.journal) return;
        await this.caughtUpUnderLock(async () => {
          await this.copies.made();
          await this.opts.copy!.settle(this.position, recordsOf(this.journal!));
        });
      }).catch((e) => this.onProblem(`Making the events copied from ${this.journalPath} durable failed (${(e as Error).message}); the journal keeps them until it is done.`));
    }, this.opts.settleAfterMs ?? 30_000);
    this.settleTimer.unref();
  }

  // ---- compaction ----

  private maybeCompact(): void {
    const threshold = Math.max(this.opts.compactAfterBytes ?? 4 << 20, this.snapshotBytes);
    if (this.compacting || this.closed || this.position - this.snapshotPosition < threshold) return;
    this.compacting = true;
    setImmediate(() => {
      if (this.closed) return void (this.compacting = false);
      this.compact()
        .catch((e) => this.onProblem(`Compacting the store ${this.path} failed (${(e as Error).message}); it will be tried again. Nothing was lost.`))
        .finally(() => (this.compacting = false));
    });
  }

  /**
   * Writes the model as a new snapshot at our position, then starts a new
   * journal there, carrying over any records appended meanwhile. The big
   * write happens outside the lock; the lock is held for the rename and the
   * copy of the (small) tail.
   */
  compact(): Promise<void> {
    if (this.closed) return Promise.reject(storeClosed(this.path));
    const run = this.compactNow();
    this.compactions.add(run);
    const done = () => void this.compactions.delete(run);
    run.then(done, done);
    return run;
  }

  private async compactNow(): Promise<void> {
    const { doc, position } = await this.exclusive(async () => {
      await this.catchUp(false);
      return { doc: { version: 2, position: this.position, state: this.model.snapshot() } satisfies SnapshotDocument, position: this.position };
    });
    let release: (() => Promise<void>) | undefined;
    try {
      const written = await this.snapshotFile.write(doc, async (file) => {
        // Its own lock, not one kept by commits: those wait for it like any other process's.
        this.lockWanted = true;
        try {
          await this.exclusive(() => this.unlock());
          release = await acquireLockAsync(this.lockPath);
        } finally {
          this.lockWanted = false;
        }
        // A snapshot damaged meanwhile is left for a person to see (checkSnapshot throws), never overwritten.
        if (!(await this.checkSnapshot())) return false;
        // Another compaction may have got further; never go back.
        const current = await JournalFile.open(this.journalPath, false);
        try {
          if (!current || current.start >= position || (await current.end()) < position) return false;
        } finally {
          await current?.close();
        }
        this.ownSnapshot = fileOf(file);
        return true;
      }).catch((e) => {
        // Renamed or not, the follower reads it as any other from here.
        this.ownSnapshot = undefined;
        throw e;
      });
      if (!written) return;
      this.snapshotBytes = written;
      this.snapshotId = await this.snapshotIdentity();
      // Noted whole (its ctime too): from here on a change to it is read and checked as any other.
      this.ownSnapshot = undefined;
      const old = await JournalFile.open(this.journalPath, true);
      if (!old) return;
      try {
        const scanned = await old.scan(position);
        if (scanned.tail !== 'clean') await old.truncate(scanned.end);
        // The records before `position` go: their copy must be complete and durable first.
        await this.opts.copy?.settle(scanned.end, recordsOf(old));
        await JournalFile.create(this.journalPath, position, await old.bytes(position, scanned.end));
      } finally {
        await old.close();
      }
      this.snapshotPosition = position;
    } finally {
      await release?.();
    }
  }
}
