// The storage boundary. Use cases see only this: a document read, a cached
// peek for the verify hot path, one transaction (read–check–write under one
// lock) and an append-only event log. A SQL adapter implements the same five.

import type { KeywardEvent, StoreDocument } from '../domain.js';

export interface Transaction {
  /** Queue an event; it is appended only if the transaction commits. */
  emit(event: KeywardEvent): void;
}

export interface Store {
  /** Where the data lives, for headers and messages (a path, or "memory"). */
  readonly location: string;
  /** The current document, re-read if another process changed it; undefined when there is no store yet. */
  read(): Promise<StoreDocument | undefined>;
  /**
   * The document without waiting on I/O, for verify. It may lag a change made
   * by another process by at most `peekMaxAgeMs`; changes made through this
   * store are visible at once.
   */
  peek(): StoreDocument | undefined;
  /** Creates the store with `doc` unless one exists; true when it created it. */
  create(doc: StoreDocument): Promise<boolean>;
  /**
   * Runs `fn` on the freshest document under an exclusive lock, then writes the
   * document (when `fn` returns normally) and appends the emitted events. If
   * `fn` throws, nothing is written and the error propagates. `fn` must
   * refuse (throw a KeywardError) before it changes the document, never after.
   */
  transact<T>(fn: (doc: StoreDocument, tx: Transaction) => T): Promise<T>;
  /** Appends events without touching the document (usage, auth failures). */
  append(events: readonly KeywardEvent[]): Promise<void>;
  /** Every event in append order (oldest first). */
  events(): Promise<readonly KeywardEvent[]>;
  close(): Promise<void>;
}
