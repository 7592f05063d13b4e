// The in-memory store of the first boundary (store/types.ts), kept until the
// engine moves onto the v2 boundary; MemoryStore (memory.ts) replaces it.

import type { KeywardEvent, StoreDocument } from '../domain.js';
import { KeywardError } from '../refusal.js';
import type { Store, Transaction } from './types.js';

export class LegacyMemoryStore implements Store {
  readonly location = 'memory';
  private doc?: StoreDocument;
  private readonly log: KeywardEvent[] = [];

  async read() {
    return this.doc;
  }
  peek() {
    return this.doc;
  }
  async create(doc: StoreDocument) {
    if (this.doc) return false;
    this.doc = doc;
    return true;
  }
  async transact<T>(fn: (doc: StoreDocument, tx: Transaction) => T): Promise<T> {
    if (!this.doc) throw new KeywardError('UNAVAILABLE', 'There is no Keyward store yet; run `keyward init`.');
    // Work on a copy so a refusal halfway through leaves nothing behind, as on disk.
    const draft = structuredClone(this.doc);
    const pending: KeywardEvent[] = [];
    const result = fn(draft, { emit: (e) => pending.push(e) });
    this.doc = draft;
    this.log.push(...pending);
    return result;
  }
  async append(events: readonly KeywardEvent[]) {
    this.log.push(...events);
  }
  async events() {
    return this.log;
  }
  async close() {}
}

export function createMemoryStore(): Store {
  return new LegacyMemoryStore();
}
