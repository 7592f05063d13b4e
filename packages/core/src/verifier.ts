// The hot path: parse the token, find what verify needs of its key in a
// cache, one SHA-256, a constant-time compare, a counter bumped in memory.
// On a cache hit the answer is synchronous; only a miss waits on the store,
// and a hit while the store cannot vouch for what it told (Store.catchingUp:
// a JSON store's follower, after a long synchronous task held the event loop).
//
// The cache listens to the store's change signal — a version that only
// grows — never to a file's inode, size or mtime: a change naming keys drops
// those keys, a change the store cannot name (another process wrote) drops
// everything. A miss that raced a change to its key (or to users, or to
// everything) answers but is not cached, so a revoked key is never
// remembered as active; one that raced changes to other keys is cached. A token works only while its
// owner is a user of the tenant with a licence (behaviour §2): a change naming
// users drops the whole cache (licence changes are rare), so taking a
// licence away stops the owner's tokens at once.

import { type ApiKey, statusAt } from './domain.js';
import type { Clock } from './clock.js';
import type { Store, StoreChange } from './store/boundary.js';
import { constantTimeEqual, digestFromHex, digestToken, hasValidChecksum, isTokenShaped, keyIdHead, keyIdHeadOf, keyIdOf, namesKeyId } from './token.js';
import type { KeyCounter, UsageRecorder, VerifyFailure } from './usage.js';

/** What verify answers on the hot path: no views built, nothing written. */
export type VerifyOutcome =
  | { valid: true; key: ApiKey }
  | { valid: false; reason: VerifyFailure; keyId?: string };

/** What verify needs of a key, kept ready (its valid answer too: a hit allocates nothing). */
interface Facts {
  key: ApiKey;
  digest: string;
  expiresAt: number;
  counter: KeyCounter;
  valid: VerifyOutcome;
  /** The owner is a user of the tenant and holds a licence. */
  ownerLicensed: boolean;
}

// Bounded, so a store of millions of keys keeps only the keys actually in use.
const MAX_KEYS = 50_000;
const MALFORMED: VerifyOutcome = Object.freeze({ valid: false, reason: 'malformed' });
const UNKNOWN: VerifyOutcome = Object.freeze({ valid: false, reason: 'unknown' });

export class Verifier {
  // By the head of the key id (token.ts: keyIdHeadOf): a cheaper index than the whole id. Replaced by a
  // new map (never cleared) when a change drops the whole cache: ask() tells so by its identity.
  private facts = new Map<string, Facts>();
  // Keys being asked of the store: a burst of requests with one uncached key asks once.
  private readonly asking = new Map<string, Promise<Facts | undefined>>();
  // Keys being asked of the store, each marked when a change that concerns it (its key, any user, or
  // all) comes meanwhile: what it read may be stale. Changes to other keys leave it be.
  private readonly reading = new Set<{ id: string; spoiled: boolean }>();
  private stopListening?: () => void;
  private closed = false;
  // The store vouched for the cache in this turn of the event loop (Store.catchingUp): asked at the first hit of
  // each turn, not at every hit — a field read is all a hit pays. Always true where the store has nothing to vouch.
  private vouched: boolean;
  private readonly nextTurn = () => {
    this.vouched = false;
  };

  constructor(
    private readonly store: Store,
    private readonly usage: UsageRecorder,
    private readonly clock: Clock,
  ) {
    this.vouched = store.catchingUp === undefined;
  }

  verify(token: string, address?: string): VerifyOutcome | Promise<VerifyOutcome> {
    if (!isTokenShaped(token)) return this.malformed();
    const f = this.facts.get(keyIdHeadOf(token));
    if (f !== undefined) return this.vouched ? this.check(f, token, address) : this.checkVouched(f, token, address);
    // Not cached: a mistyped or made-up token is refused by its checksum without asking the store.
    return hasValidChecksum(token) ? this.miss(keyIdOf(token), token, address) : this.malformed();
  }

  /** The first hit of a turn: answered once the store vouches for the cache, after its look if it has to. */
  private checkVouched(f: Facts, token: string, address: string | undefined): VerifyOutcome | Promise<VerifyOutcome> {
    const behind = this.store.catchingUp!();
    if (behind !== undefined) return behind.then(() => this.verify(token, address));
    this.vouched = true;
    setImmediate(this.nextTurn);
    return this.check(f, token, address);
  }

  /** Stops listening to the store (the engine closes). */
  close(): void {
    this.closed = true;
    this.stopListening?.();
    this.stopListening = undefined;
  }

  /**
   * Listens to the store from the first key it asks for on: nothing is cached
   * before that, and a one-shot command that never verifies opens no change
   * feed (on PostgreSQL, a LISTEN connection of its own).
   */
  private listen(): void {
    if (this.stopListening === undefined && !this.closed) this.stopListening = this.store.onChange((c) => this.changed(c));
  }

  private malformed(): VerifyOutcome {
    this.usage.recordFailure(undefined, undefined, 'malformed', this.clock.now());
    return MALFORMED;
  }

  /**
   * A cached key's answer. The checksum is left unchecked on this path: a
   * token matching the stored digest is the very token issued, checksum and
   * all — its key id too; one that does not match is checked only to say why
   * it failed, or found to name another key whose id shares the head.
   */
  private check(f: Facts, token: string, address: string | undefined): VerifyOutcome | Promise<VerifyOutcome> {
    const now = this.clock.now();
    const key = f.key;
    if (!constantTimeEqual(digestToken(token), f.digest)) {
      if (!hasValidChecksum(token)) return this.malformed();
      if (!namesKeyId(token, key.id)) return this.miss(keyIdOf(token), token, address);
      this.usage.recordFailure(key.id, key.owner, 'unknown', now);
      return { valid: false, reason: 'unknown', keyId: key.id };
    }
    const status = statusAt(Boolean(key.revokedAt), f.expiresAt, now);
    if (status !== 'active') {
      // The old token of a rotated key, used after its overlap: a copy of it is still out there.
      this.usage.recordFailure(key.id, key.owner, status === 'expired' && key.rotatedTo !== undefined ? 'reused-after-rotation' : status, now);
      return { valid: false, reason: status, keyId: key.id };
    }
    if (!f.ownerLicensed) {
      this.usage.recordFailure(key.id, key.owner, 'unlicensed', now);
      return { valid: false, reason: 'unlicensed', keyId: key.id };
    }
    this.usage.recordUse(f.counter, now, address);
    return f.valid;
  }

  private async miss(id: string, token: string, address: string | undefined): Promise<VerifyOutcome> {
    let asked = this.asking.get(id);
    if (asked === undefined) {
      const mine = this.ask(id).finally(() => {
        if (this.asking.get(id) === mine) this.asking.delete(id);
      });
      this.asking.set(id, (asked = mine));
    }
    const f = await asked;
    if (f === undefined) {
      this.usage.recordFailure(undefined, undefined, 'unknown', this.clock.now());
      return UNKNOWN;
    }
    return this.check(f, token, address);
  }

  /**
   * A key's facts from the store, cached unless a change came while asking
   * (they may be stale): the answer of the moment it asked. Asked once more
   * when that change dropped the whole cache: the store's first load does
   * so, and a server's first burst of requests would otherwise cache nothing.
   */
  private async ask(id: string, again = true): Promise<Facts | undefined> {
    this.listen();
    const read = { id, spoiled: false };
    this.reading.add(read);
    try {
      return await this.asked(id, read, again);
    } finally {
      this.reading.delete(read);
    }
  }

  private async asked(id: string, read: { spoiled: boolean }, again: boolean): Promise<Facts | undefined> {
    const cache = this.facts;
    const key = await this.store.getKey(id);
    if (key === undefined) return undefined;
    const owner = await this.store.getUser(key.owner);
    const f: Facts = {
      key,
      digest: digestFromHex(key.hash),
      expiresAt: Date.parse(key.expiry),
      counter: this.usage.counterFor(key.id, key.owner),
      valid: Object.freeze({ valid: true, key }),
      ownerLicensed: owner !== undefined && owner.licence,
    };
    if (read.spoiled) return again && cache !== this.facts ? this.ask(id, false) : f;
    if (this.facts.size >= MAX_KEYS) this.facts.clear();
    this.facts.set(keyIdHead(id), f);
    return f;
  }

  private changed(c: StoreChange): void {
    const everything = c.all === true || c.userIds !== undefined;
    for (const r of this.reading) if (everything || c.keyIds?.includes(r.id)) r.spoiled = true;
    if (everything) {
      this.facts = new Map();
      this.asking.clear();
    } else if (c.keyIds !== undefined) {
      for (const id of c.keyIds) {
        // (A key sharing the head goes too: it is asked again.)
        this.facts.delete(keyIdHead(id));
        // A verify arriving after the change asks afresh rather than share an answer asked before it.
        this.asking.delete(id);
      }
    }
  }
}
