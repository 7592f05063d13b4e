// What verify needs of a key, kept ready so the hot path is one Map lookup,
// one SHA-256 and one constant-time compare: the token's digest in
// comparable form, the expiry as a number, the live key object (whose
// `revokedAt` a revoke sets in place) and the key's usage counter.
//
// The facts belong to one store document: they are dropped whenever the
// document is replaced (another process wrote) or changed through this
// engine (a key deleted), and rebuilt lazily per key. Bounded, so a store of
// millions of keys keeps only the keys actually in use.

import type { ApiKey, StoreDocument } from './domain.js';
import { digestFromHex } from './token.js';
import type { KeyCounter, UsageRecorder } from './usage.js';

export interface Facts {
  key: ApiKey;
  digest: string;
  expiresAt: number;
  counter: KeyCounter;
}

const MAX_KEYS = 50_000;

export class KeyFacts {
  private facts = new Map<string, Facts>();
  private doc?: StoreDocument;
  private generation = -1;

  constructor(private readonly usage: UsageRecorder) {}

  /** The facts of key `id` in `doc`, or undefined when the document has no such key. */
  of(doc: StoreDocument, generation: number, id: string): Facts | undefined {
    if (doc !== this.doc || generation !== this.generation) {
      this.facts = new Map();
      this.doc = doc;
      this.generation = generation;
    }
    let f = this.facts.get(id);
    if (f === undefined) {
      // A 24-character id can name no property of Object.prototype, so a plain lookup is safe.
      const key = doc.keys[id];
      if (key === undefined) return undefined;
      if (this.facts.size >= MAX_KEYS) this.facts.clear();
      f = { key, digest: digestFromHex(key.hash), expiresAt: Date.parse(key.expiry), counter: this.usage.counterFor(id) };
      this.facts.set(id, f);
    }
    return f;
  }
}
