// The in-memory store: the v2 boundary over a TenantState, an event array
// and usage aggregates, for tests and benchmarks of the use cases alone. The
// conformance suite holds every other adapter to what this one answers.

import type { KeywardEvent } from '../domain.js';
import { KeywardError } from '../refusal.js';
import type { EventFind, EventPage, FlushId, InitialState, KeyUsage, Store, StoreChange, Transaction, UsageCount } from './boundary.js';
import { ChangeSignal, changeOf } from './change-signal.js';
import { storeClosed } from './closed.js';
import { findInLog } from './event-find.js';
import { StateReads, StateTransaction } from './state-transaction.js';
import { TenantState } from './tenant-state.js';
import { UsageAggregates } from './usage-aggregates.js';

export class MemoryStore extends StateReads implements Store {
  readonly location = 'memory';
  private readonly signal = new ChangeSignal();
  private log: KeywardEvent[] = [];
  // Position of each event in `log`, for cursors.
  private readonly seq = new Map<string, number>();
  private readonly current = new TenantState();
  private readonly aggregates = new UsageAggregates();
  /** Each flusher's latest flush applied (boundary.ts recordUsage: at most once). */
  private readonly flushed = new Map<string, number>();
  // Transactions run one at a time, as the boundary promises.
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  /** Every read of records goes through here: refused once closed (closed.ts). */
  protected state(): TenantState {
    this.usable();
    return this.current;
  }
  protected lastUsedSource(): UsageAggregates {
    return this.aggregates;
  }

  async create(init: InitialState): Promise<boolean> {
    return this.exclusive(() => {
      const state = this.current;
      if (state.tenant) return false;
      const touched = state.apply([{ op: 'putTenant', tenant: structuredClone(init.tenant) }, ...init.users.map((u) => ({ op: 'putUser' as const, user: structuredClone(u) }))]);
      this.push(structuredClone(init.events));
      this.signal.changed(changeOf(touched));
      return true;
    });
  }

  transact<T>(fn: (tx: Transaction) => Promise<T> | T): Promise<T> {
    return this.exclusive(async () => {
      if (!this.current.tenant) throw new KeywardError('UNAVAILABLE', 'There is no Keyward store yet; run `keyward init`.');
      const tx = new StateTransaction(this.current, this.aggregates);
      const result = await fn(tx);
      if (tx.ops.length > 0 || tx.events.length > 0) {
        const touched = this.current.apply(tx.ops);
        this.push(tx.events);
        this.signal.changed(changeOf(touched));
      }
      return result;
    });
  }

  async append(events: readonly KeywardEvent[]): Promise<void> {
    this.usable();
    if (events.length === 0) return;
    this.push(structuredClone(events));
    this.signal.changed({});
  }

  async findEvents(q: EventFind): Promise<EventPage> {
    this.usable();
    return findInLog(this.log, q, (id) => this.seq.get(id));
  }

  async recordUsage(counts: readonly UsageCount[], events: readonly KeywardEvent[], flush?: FlushId): Promise<void> {
    this.usable();
    if (counts.length === 0 && events.length === 0) return;
    if (flush) {
      if ((this.flushed.get(flush.by) ?? 0) >= flush.seq) return;
      this.flushed.set(flush.by, flush.seq);
    }
    this.aggregates.add(counts);
    this.push(structuredClone(events));
    this.signal.changed({});
  }

  async usageSince(since: number, keyIds?: readonly string[]): Promise<KeyUsage[]> {
    this.usable();
    return this.aggregates.since(since, keyIds);
  }

  async lastUsedOf(keyIds: readonly string[]): Promise<Map<string, KeyUsage>> {
    this.usable();
    return this.aggregates.lastUsedOf(keyIds);
  }

  async removeBefore(before: number): Promise<void> {
    this.usable();
    const iso = new Date(before).toISOString();
    const kept = this.log.filter((e) => e.eventTime >= iso);
    if (kept.length !== this.log.length) {
      // Renumber: a cursor of a removed event is refused like any unknown one.
      this.seq.clear();
      this.log = [];
      this.push(kept);
    }
    this.aggregates.removeBefore(before);
    this.signal.changed({});
  }

  version(): number {
    return this.signal.version();
  }

  onChange(listener: (change: StoreChange) => void): () => void {
    return this.signal.onChange(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.queue;
  }

  private usable(): void {
    if (this.closed) throw storeClosed(this.location);
  }

  private push(events: readonly KeywardEvent[]): void {
    for (const e of events) {
      this.seq.set(e.id, this.log.length);
      this.log.push(e);
    }
  }

  /** Asked before close(), a transaction still runs (close waits for it); asked after, it is refused. */
  private exclusive<T>(fn: () => Promise<T> | T): Promise<T> {
    if (this.closed) return Promise.reject(storeClosed(this.location));
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

export function createMemoryStore(): Store {
  return new MemoryStore();
}
