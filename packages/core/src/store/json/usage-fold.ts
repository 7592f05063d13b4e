// Usage as the aggregates hold it: per key, uses in time buckets (a minute,
// or an hour once rolled up), the last use, and the last five distinct client
// addresses. Folding is addition for uses and "latest wins" for the rest, so
// counts written by several servers add up, and folding the same last-use
// twice changes nothing.

import type { KeyUsage } from '../boundary.js';

export type Address = [address: string, lastSeen: number];

/** One key in one file: [bucket start (epoch minute), uses] pairs, last use, addresses. */
export interface KeyBuckets {
  b: [number, number][];
  l: number;
  a: Address[];
}

export const MAX_ADDRESSES = 5;

/** The newest `MAX_ADDRESSES` distinct addresses of both lists, newest first. */
export function mergeAddresses(into: Address[], more: readonly Address[]): Address[] {
  if (more.length === 0) return into;
  const latest = new Map<string, number>();
  for (const [addr, seen] of [...into, ...more]) if ((latest.get(addr) ?? -Infinity) < seen) latest.set(addr, seen);
  return [...latest]
    .sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1))
    .slice(0, MAX_ADDRESSES);
}

/** Adds one key's buckets into a running fold. */
export function foldKey(into: KeyBuckets, uses: readonly [number, number][], lastUsed: number, addresses: readonly Address[]): void {
  for (const [start, n] of uses) {
    const at = into.b.findIndex((x) => x[0] === start);
    if (at >= 0) into.b[at][1] += n;
    else into.b.push([start, n]);
  }
  if (lastUsed > into.l) into.l = lastUsed;
  into.a = mergeAddresses(into.a, addresses);
}

export function emptyKey(): KeyBuckets {
  return { b: [], l: 0, a: [] };
}

/** What a question about usage gathers per key. */
export class UsageTally {
  private readonly keys = new Map<string, KeyUsage>();

  add(keyId: string, uses: number, lastUsed: number, addresses: readonly Address[]): void {
    let u = this.keys.get(keyId);
    if (!u) this.keys.set(keyId, (u = { keyId, uses: 0, lastUsedFrom: [] }));
    u.uses += uses;
    if (lastUsed > 0 && (u.lastUsed === undefined || lastUsed > u.lastUsed)) u.lastUsed = lastUsed;
    if (addresses.length > 0) {
      u.lastUsedFrom = mergeAddresses(
        u.lastUsedFrom.map((x) => [x.address, x.lastSeen]),
        addresses,
      ).map(([address, lastSeen]) => ({ address, lastSeen }));
    }
  }

  get(keyId: string): KeyUsage | undefined {
    return this.keys.get(keyId);
  }

  all(): KeyUsage[] {
    return [...this.keys.values()];
  }
}

// ---- shapes on disk (checked on read: a hand-edited file must not crash a use case) ----

const isAddress = (x: unknown): x is Address => Array.isArray(x) && x.length === 2 && typeof x[0] === 'string' && Number.isFinite(x[1]);
const isBucket = (x: unknown): x is [number, number] => Array.isArray(x) && x.length === 2 && Number.isSafeInteger(x[0]) && Number.isSafeInteger(x[1]) && (x[1] as number) >= 0;

export function isKeyBuckets(x: unknown): x is KeyBuckets {
  const k = x as KeyBuckets;
  return typeof k === 'object' && k !== null && Array.isArray(k.b) && k.b.every(isBucket) && Number.isFinite(k.l) && Array.isArray(k.a) && k.a.every(isAddress);
}

/** One counted use batch entry: [keyId, minute, uses, lastUsed, addresses]. */
export type RawCount = [string, number, number, number, Address[]];

export function isRawCount(x: unknown): x is RawCount {
  return (
    Array.isArray(x) &&
    x.length === 5 &&
    typeof x[0] === 'string' &&
    Number.isSafeInteger(x[1]) &&
    Number.isSafeInteger(x[2]) &&
    (x[2] as number) >= 0 &&
    Number.isFinite(x[3]) &&
    Array.isArray(x[4]) &&
    (x[4] as unknown[]).every(isAddress)
  );
}

/** A line of a raw usage file: the flush time and its counts. */
export interface RawBatch {
  t: number;
  c: RawCount[];
}

export function isRawBatch(x: unknown): x is RawBatch {
  const r = x as RawBatch;
  return typeof r === 'object' && r !== null && Number.isFinite(r.t) && Array.isArray(r.c) && r.c.every(isRawCount);
}

/** A rolled-up file (an hour of minutes, a day of hours, or every last use): key → buckets. */
export interface SumFile {
  keys: Record<string, KeyBuckets>;
}

export function isSumFile(x: unknown): x is SumFile {
  const s = x as SumFile;
  return typeof s === 'object' && s !== null && typeof s.keys === 'object' && s.keys !== null && !Array.isArray(s.keys) && Object.values(s.keys).every(isKeyBuckets);
}
