// Usage as aggregates: uses per key per minute, summed over every server
// that recorded them, plus each key's last use and its last 5 distinct
// client addresses. Usage, "last used" and excessive use are answered from
// here, never by scanning events. Held in memory by the memory store and by
// stores that replay usage records into memory.

import type { KeyUsage, UsageCount } from './boundary.js';
import type { LastUsedSource } from './tenant-state.js';

const MINUTE = 60_000;
export const MAX_ADDRESSES = 5;

/**
 * An address sighting copied field by field, in one shape: the store's come
 * in several (frozen or not, read or merged), and code V8 optimized for the
 * shapes seen so far is thrown away at each new one (usage-pipeline.ts copyOf).
 */
export const copyOfSighting = (a: { address: string; lastSeen: number }): { address: string; lastSeen: number } => ({ address: a.address, lastSeen: a.lastSeen });

/**
 * Whether a count names a last use of its key, to be kept (past retention,
 * as a fact about the key): one with uses, addresses seen, or a last use
 * alone — what a copy carries of a key whose minutes retention removed
 * (copy.ts usageOf), dropped before by PostgreSQL and the memory store (the
 * JSON store's last-used.json folded it).
 */
export const writesLastUse = (c: UsageCount): boolean => c.uses > 0 || (c.addresses?.length ?? 0) > 0 || c.lastUsed > 0;

/** Merges address sightings: newest first, one per address, at most 5. */
export function mergeAddresses(a: readonly { address: string; lastSeen: number }[], b: readonly { address: string; lastSeen: number }[]): { address: string; lastSeen: number }[] {
  const seen = new Map<string, number>();
  // Each list in turn, not their spread: the lists come frozen or not, and a spread of either made V8 throw away its code for this.
  for (let i = 0; i < a.length; i++) if ((seen.get(a[i].address) ?? -Infinity) < a[i].lastSeen) seen.set(a[i].address, a[i].lastSeen);
  for (let i = 0; i < b.length; i++) if ((seen.get(b[i].address) ?? -Infinity) < b[i].lastSeen) seen.set(b[i].address, b[i].lastSeen);
  return [...seen]
    .map(([address, lastSeen]) => ({ address, lastSeen }))
    .sort((x, y) => y.lastSeen - x.lastSeen || (x.address < y.address ? -1 : 1))
    .slice(0, MAX_ADDRESSES);
}

export class UsageAggregates implements LastUsedSource {
  // keyId → epoch minute → uses and the last use in it.
  private readonly minutes = new Map<string, Map<number, { uses: number; lastUsed: number }>>();
  // keyId → last use ever and where from (kept past retention: it is a fact about the key).
  private readonly last = new Map<string, { lastUsed: number; lastUsedFrom: { address: string; lastSeen: number }[] }>();
  /** Changes whenever an answer may (the `lastUsed` order's memo listens to it). */
  version = 0;

  add(counts: readonly UsageCount[]): void {
    for (const c of counts) {
      if (!writesLastUse(c)) continue;
      let byMinute = this.minutes.get(c.keyId);
      if (!byMinute) this.minutes.set(c.keyId, (byMinute = new Map()));
      const m = byMinute.get(c.minute);
      if (m) {
        m.uses += c.uses;
        m.lastUsed = Math.max(m.lastUsed, c.lastUsed);
      } else byMinute.set(c.minute, { uses: c.uses, lastUsed: c.lastUsed });
      const l = this.last.get(c.keyId);
      this.last.set(c.keyId, {
        lastUsed: Math.max(l?.lastUsed ?? -Infinity, c.lastUsed),
        lastUsedFrom: c.addresses?.length ? mergeAddresses(l?.lastUsedFrom ?? [], c.addresses) : (l?.lastUsedFrom ?? []),
      });
    }
    this.version++;
  }

  lastUsed(keyId: string): number | undefined {
    return this.last.get(keyId)?.lastUsed;
  }

  /** Uses per key from the minute holding `since` on; unused keys only when named. */
  since(since: number, keyIds?: readonly string[]): KeyUsage[] {
    const from = Math.floor(since / MINUTE);
    const out: KeyUsage[] = [];
    const ids = keyIds ?? [...this.minutes.keys()];
    for (const keyId of ids) {
      let uses = 0;
      let lastUsed: number | undefined;
      for (const [minute, m] of this.minutes.get(keyId) ?? []) {
        if (minute < from) continue;
        uses += m.uses;
        if (lastUsed === undefined || m.lastUsed > lastUsed) lastUsed = m.lastUsed;
      }
      if (uses === 0 && keyIds === undefined) continue;
      const u: KeyUsage = { keyId, uses, lastUsedFrom: [...(this.last.get(keyId)?.lastUsedFrom ?? [])] };
      if (lastUsed !== undefined) u.lastUsed = lastUsed;
      out.push(u);
    }
    return out;
  }

  lastUsedOf(keyIds: readonly string[]): Map<string, KeyUsage> {
    const out = new Map<string, KeyUsage>();
    for (const keyId of keyIds) {
      const l = this.last.get(keyId);
      if (l) out.set(keyId, { keyId, uses: 0, lastUsed: l.lastUsed, lastUsedFrom: [...l.lastUsedFrom] });
    }
    return out;
  }

  /** Forgets the minutes before `before` (retention). */
  removeBefore(before: number): void {
    const from = Math.floor(before / MINUTE);
    for (const [keyId, byMinute] of this.minutes) {
      for (const minute of byMinute.keys()) if (minute < from) byMinute.delete(minute);
      if (byMinute.size === 0) this.minutes.delete(keyId);
    }
    this.version++;
  }
}
