// The embedded store (DESIGN.md "store", cost model): the tenant's records
// in memory (TenantState), kept equal to a lowdb snapshot plus a journal of
// transactions (journal.ts); events in day segments and usage in aggregates
// beside it (event-segments.ts, usage-aggregates.ts), so memory follows the
// number of keys, never the history kept.
//
// Files of a store at `dir/store.json`:
//   store.json       the snapshot (rewritten only by compaction)
//   store.journal    transactions since the snapshot
//   store.json.lock  the cross-process lock, while a writer holds it
//   store.events/    event day segments (a journal record's events are copied there; journal-events.ts),
//                    and journal-copied, how far that copy is known complete (copy-mark.ts)
//   store.usage/     usage aggregates

import { statfsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ApiKey, KeywardEvent, StoreDocument, Tenant, User } from '../../domain.js';
import { KeywardError } from '../../refusal.js';
import type { EventFind, EventPage, FlushId, FoundPage, InitialState, KeyFind, KeyUsage, ReadOptions, Store, StoreChange, StoreGauges, Transaction, UsageCount } from '../boundary.js';
import { changeOf } from '../change-signal.js';
import { storeClosed } from '../closed.js';
import { StateReads, StateTransaction } from '../state-transaction.js';
import { StagedState } from '../staged-state.js';
import { type LastUsedSource, type StoreOp, type TenantReads, TenantState } from '../tenant-state.js';
import { EventSegments } from './event-segments.js';
import { diskFault } from './files.js';
import { Journal, type JournalModel, journalPathFor } from './journal.js';
import { JournalEvents } from './journal-events.js';
import { migrateEventLog } from './migrate-event-log.js';
import { UsageAggregates } from './usage-aggregates.js';
import { flushName } from './usage-fold.js';

/** One transaction as its journal record carries it: its writes and its events, committed together. */
export interface JournalEntry {
  ops: StoreOp[];
  events: KeywardEvent[];
}

class TenantModel implements JournalModel<JournalEntry> {
  /** What reads answer from: every durable change, nothing else. */
  state = new TenantState();
  /** While a commit group is decided: the state with the group's writes so far (staged-state.ts). */
  private staged?: StagedState;
  load(doc: unknown): void {
    this.state = doc ? TenantState.fromDocument(doc as StoreDocument) : new TenantState();
    this.staged = undefined;
  }
  apply(entry: JournalEntry) {
    return changeOf(this.state.apply(entry.ops));
  }
  stage(entry: JournalEntry): void {
    (this.staged ??= new StagedState(this.state)).stage(entry.ops);
  }
  unstage(): void {
    this.staged = undefined;
  }
  /** What a transaction decides on: the state with the writes of its commit group before it. */
  decisions(): TenantReads {
    return this.staged ?? this.state;
  }
  snapshot(): unknown {
    return this.state.tenant ? this.state.toSnapshot() : null;
  }
}

export interface JsonFileStoreOptions {
  /** How often to look for other processes' writes (fs.watch usually wakes sooner). */
  pollMs?: number;
  /** Journal bytes past the snapshot before a compaction (at least the snapshot's size). */
  compactAfterBytes?: number;
  /** A damaged line skipped, a torn tail cut away. Default: a process warning. */
  onProblem?: (message: string) => void;
  /** How long after a commit the events copied from the journal are fsynced (default 30 s). */
  settleAfterMs?: number;
  /** The longest this process keeps the store's lock between its commits (default 250 ms; another process that asks gets it at once where the folder watch works). */
  holdLockMs?: number;
  /** Tests kill the process at these points of a commit, to see that a reopened store has every event exactly once. */
  crashPoints?: { afterRecordDurable?: () => void; afterCopiesWritten?: () => void };
}

/** Where round 1 kept its events (migrated into segments on first open). */
export function eventLogPathFor(storePath: string): string {
  return storePath.replace(/\.json$/i, '') + '.events.jsonl';
}

/** The files a change of keys, users or settings touches (to watch for other processes' changes). */
export function changedFilesOf(storePath: string): string[] {
  return [storePath, journalPathFor(storePath)];
}

export class JsonFileStore extends StateReads implements Store {
  /** A commit group decides its transactions one after another (journal.ts commitGroup). */
  readonly decidesInTurn = true;
  private readonly model = new TenantModel();
  private readonly journal: Journal<JournalEntry>;
  private readonly segments: EventSegments;
  private readonly copies: JournalEvents<JournalEntry>;
  private readonly usage: UsageAggregates;
  private usageAsked = 0;
  private closing?: Promise<void>;
  /** Writes beside the journal under way (usage, events, retention): close() lets them finish before it closes their files. */
  private readonly writing = new Set<Promise<unknown>>();
  /**
   * Flushes whose counts are appended and whose events are not (yet), with
   * where their events' segments ended before the first try: sent again,
   * their counts are not appended twice, nor the events a failed try left whole.
   */
  private readonly countedFlushes = new Map<string, Map<string, number>>();

  constructor(
    readonly location: string,
    opts: JsonFileStoreOptions = {},
  ) {
    super();
    const base = location.replace(/\.json$/i, '');
    const eventsDir = `${base}.events`;
    const usageDir = `${base}.usage`;
    const onProblem = opts.onProblem ?? ((m: string) => process.emitWarning(m, 'KeywardStoreWarning'));
    const onMalformed = (file: string, lines: number) => onProblem(`${file}: ${lines} line(s) that are not what they should be were skipped.`);
    this.segments = new EventSegments(eventsDir, { onMalformed });
    this.usage = new UsageAggregates(usageDir, { onMalformed });
    this.copies = new JournalEvents<JournalEntry>(this.segments, `${eventsDir}/journal-copied`, { afterCopiesWritten: opts.crashPoints?.afterCopiesWritten });
    this.journal = new Journal<JournalEntry>(location, this.model, {
      pollMs: opts.pollMs,
      compactAfterBytes: opts.compactAfterBytes,
      onProblem,
      // Round 1's events move to segments and aggregates; its document is the first snapshot.
      migrate: async (doc) => {
        await migrateEventLog(eventLogPathFor(location), { eventsDir, usageDir });
        return { state: doc, entries: [] };
      },
      copy: this.copies,
      settleAfterMs: opts.settleAfterMs,
      holdLockMs: opts.holdLockMs,
      afterRecordDurable: opts.crashPoints?.afterRecordDurable,
    });
  }

  protected state(): TenantState {
    return this.model.state;
  }
  protected lastUsedSource(): LastUsedSource | undefined {
    return undefined;
  }

  // Reads first apply what other processes appended: nothing to look at while
  // the follower confirmed the journal less than its poll interval ago (the
  // request path's point reads: tenant, user, key; and the hints whoami asks,
  // an owner's count and the users, see ReadOptions), else one fstat when
  // nothing was appended. A record not found on the follower's word is looked
  // for again, so a key or user just created by another process is found at
  // once; lists (users too), counts, pages and prefixes see every change
  // acknowledged before they were asked (strict: they look, one fstat, unless
  // this process still holds the lock it last caught up under; Journal.fresh).
  override async tenant(): Promise<Tenant | undefined> {
    return this.pointRead(() => super.tenant());
  }
  override async getUser(id: string): Promise<User | undefined> {
    return this.pointRead(() => super.getUser(id));
  }
  override async listUsers(opts?: ReadOptions): Promise<User[]> {
    await this.journal.fresh(!opts?.hint);
    return super.listUsers();
  }
  override async getKey(id: string): Promise<ApiKey | undefined> {
    return this.pointRead(() => super.getKey(id));
  }
  override async keysByIdPrefix(prefix: string, limit: number): Promise<ApiKey[]> {
    await this.journal.fresh(true);
    return super.keysByIdPrefix(prefix, limit);
  }
  override async keysOf(owner: string): Promise<ApiKey[]> {
    await this.journal.fresh(true);
    return super.keysOf(owner);
  }
  override async countActiveKeys(owner: string, now: number, opts?: ReadOptions): Promise<number> {
    await this.journal.fresh(!opts?.hint);
    return super.countActiveKeys(owner, now);
  }
  override async findKeys(q: KeyFind): Promise<FoundPage<ApiKey>> {
    await this.journal.fresh(true);
    return this.state().findKeys(q, q.order === 'lastUsed' ? await this.lastUsedOfAll() : undefined);
  }

  /** A read of one record; nothing found on the follower's word is asked again after looking. */
  private async pointRead<T>(read: () => Promise<T | undefined>): Promise<T | undefined> {
    if (await this.journal.fresh()) {
      const found = await read();
      if (found !== undefined) return found;
      await this.journal.fresh(true);
    }
    return read();
  }

  /** The `lastUsed` order from the aggregates, asked once per list. */
  private async lastUsedOfAll(): Promise<LastUsedSource> {
    const used = await this.usage.lastUsedOf([...this.state().keys.keys()]);
    return { version: ++this.usageAsked, lastUsed: (id) => used.get(id)?.lastUsed };
  }

  async create(init: InitialState): Promise<boolean> {
    this.usable();
    try {
      await mkdir(dirname(this.location), { recursive: true, mode: 0o700 });
    } catch (e) {
      throw diskFault(e, `Creating the store's folder ${dirname(this.location)}`);
    }
    await this.journal.ensureCreated();
    return this.journal.commit(() => {
      if (this.model.decisions().tenant) return { result: false };
      const ops: StoreOp[] = [{ op: 'putTenant', tenant: structuredClone(init.tenant) }, ...init.users.map((u): StoreOp => ({ op: 'putUser', user: structuredClone(u) }))];
      return { entry: { ops, events: structuredClone(init.events) }, result: true };
    });
  }

  transact<T>(fn: (tx: Transaction) => Promise<T> | T): Promise<T> {
    return this.journal.commit(async () => {
      const decisions = this.model.decisions();
      if (!decisions.tenant) throw new KeywardError('UNAVAILABLE', `There is no Keyward store at ${this.location}; run \`keyward init\` to create one.`);
      const tx = new StateTransaction(decisions);
      const result = await fn(tx);
      const entry = tx.ops.length > 0 || tx.events.length > 0 ? { ops: tx.ops, events: tx.events } : undefined;
      return { entry, result };
    });
  }

  append(events: readonly KeywardEvent[]): Promise<void> {
    if (events.length === 0) return Promise.resolve();
    return this.besideTheJournal(async () => {
      await this.journal.fresh(true); // a store that went bad is refused here too
      await this.writeEvents(events);
      this.journal.changed({});
    });
  }

  async findEvents(q: EventFind): Promise<EventPage> {
    await this.journal.fresh(true);
    return this.segments.find(q);
  }

  recordUsage(counts: readonly UsageCount[], events: readonly KeywardEvent[], flush?: FlushId): Promise<void> {
    if (counts.length === 0 && events.length === 0) return Promise.resolve();
    return this.besideTheJournal(async () => {
      await this.journal.fresh(true);
      const name = flush && flushName(flush);
      // Its counts were appended by an earlier try whose events failed: only the events it did not leave whole are written now.
      const tried = name === undefined ? undefined : this.countedFlushes.get(name);
      if (tried === undefined) {
        try {
          // Before anything of it is written: where its events' segments end.
          const ends = name === undefined ? undefined : await this.segments.ends(events);
          if (name === undefined) await this.usage.record(counts);
          else await this.usage.recordFlush(counts, name);
          if (name !== undefined && ends !== undefined) this.countedFlushes.set(name, ends);
        } catch (e) {
          throw diskFault(e, `Recording usage in ${this.location}`);
        }
      }
      await this.writeEvents(tried === undefined ? events : await this.segments.notIn(events, tried));
      if (name !== undefined) this.countedFlushes.delete(name);
      this.journal.changed({});
    });
  }

  async usageSince(since: number, keyIds?: readonly string[]): Promise<KeyUsage[]> {
    this.usable();
    return this.usage.usageSince(since, keyIds);
  }

  async lastUsedOf(keyIds: readonly string[]): Promise<Map<string, KeyUsage>> {
    this.usable();
    return this.usage.lastUsedOf(keyIds);
  }

  removeBefore(before: number): Promise<void> {
    return this.besideTheJournal(async () => {
      await this.segments.removeBefore(before);
      await this.usage.removeBefore(before);
      this.journal.changed({});
    });
  }

  /** The free space where the store's files are (StoreGauges.disk); nothing where the file system cannot say. */
  gauges(): StoreGauges {
    try {
      const fs = statfsSync(dirname(this.location));
      return { disk: { freeBytes: fs.bavail * fs.bsize, totalBytes: fs.blocks * fs.bsize } };
    } catch {
      return {};
    }
  }

  /** Rewrites the snapshot now (normally the journal does so itself, in the background, as it grows). */
  compact(): Promise<void> {
    return this.journal.compact();
  }

  version(): number {
    return this.journal.version();
  }

  onChange(listener: (change: StoreChange) => void): () => void {
    return this.journal.onChange(listener);
  }

  catchingUp(): Promise<void> | undefined {
    return this.journal.catchingUp();
  }

  /** What was asked before still finishes; from now on every read and write is refused (closed.ts), and nothing is opened again. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const journal = this.journal.close();
      // Asked before close(), they finish first (their steps after the journal's look come after its close).
      await Promise.allSettled([...this.writing]);
      await journal;
      await this.copies.close();
      await this.segments.idle();
      await this.usage.close();
    })();
    return this.closing;
  }

  /** The reads and writes that do not ask the journal first (fresh, commit: it refuses them itself once closed). */
  private usable(): void {
    if (this.closing) throw storeClosed(this.location);
  }

  /** A write to the events' or usage's files, refused once closed, and waited for by close() when asked before it. */
  private besideTheJournal(write: () => Promise<void>): Promise<void> {
    if (this.closing) return Promise.reject(storeClosed(this.location));
    const run = write();
    this.writing.add(run);
    const done = () => void this.writing.delete(run);
    run.then(done, done);
    return run;
  }

  private async writeEvents(events: readonly KeywardEvent[]): Promise<void> {
    try {
      await this.segments.append(events);
    } catch (e) {
      throw diskFault(e, `Writing events of ${this.location}`);
    }
  }
}

export function createJsonFileStore(path: string, opts?: JsonFileStoreOptions): Store {
  return new JsonFileStore(path, opts);
}
