// Usage as the aggregates hold it: per key, uses in time buckets (a minute,
// or an hour once rolled up), the last use, and the last five distinct client
// addresses. Folding is addition for uses and "latest wins" for the rest, so
// counts written by several servers add up, and folding the same last-use
// twice changes nothing.

import type { FlushId, KeyUsage } from '../boundary.js';
import { MAX_ADDRESSES } from '../usage-aggregates.js';

export type Address = [address: string, lastSeen: number];

/** One key in one file: [bucket start (epoch minute), uses] pairs, last use, addresses. */
export interface KeyBuckets {
  b: [number, number][];
  l: number;
  a: Address[];
}


/**
 * Notes that `address` was seen at `seen`, in place: the list keeps the
 * newest `MAX_ADDRESSES` distinct addresses (unordered; `newestFirst` sorts).
 * Exact: an address dropped for being older than five others can only come
 * back with a newer time than it had.
 */
export function noteAddress(list: Address[], address: string, seen: number): void {
  let oldest = 0;
  for (let i = 0; i < list.length; i++) {
    if (list[i][0] === address) {
      if (seen > list[i][1]) list[i][1] = seen;
      return;
    }
    if (list[i][1] < list[oldest][1]) oldest = i;
  }
  if (list.length < MAX_ADDRESSES) list.push([address, seen]);
  else if (seen > list[oldest][1]) list[oldest] = [address, seen];
}

/**
 * The rule of store/usage-aggregates.ts's mergeAddresses (newest MAX_ADDRESSES
 * distinct), on the compact [address, lastSeen] tuples the usage files keep,
 * in place: roll-ups fold many batches and allocate nothing per address.
 */
export function mergeAddressTuples(into: Address[], more: readonly Address[]): Address[] {
  for (const [address, seen] of more) noteAddress(into, address, seen);
  return into;
}

export function newestFirst(list: readonly Address[]): Address[] {
  return [...list].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1));
}

/** Adds one key's buckets into a running fold. */
export function foldKey(into: KeyBuckets, uses: readonly [number, number][], lastUsed: number, addresses: readonly Address[]): void {
  for (const [start, n] of uses) {
    const at = into.b.findIndex((x) => x[0] === start);
    if (at >= 0) into.b[at][1] += n;
    else into.b.push([start, n]);
  }
  if (lastUsed > into.l) into.l = lastUsed;
  mergeAddressTuples(into.a, addresses);
}

export function emptyKey(): KeyBuckets {
  return { b: [], l: 0, a: [] };
}

/** What a question about usage gathers per key. */
export class UsageTally {
  private readonly keys = new Map<string, { uses: number; lastUsed: number; addresses: Address[] }>();

  add(keyId: string, uses: number, lastUsed: number, addresses: readonly Address[]): void {
    let u = this.keys.get(keyId);
    if (!u) this.keys.set(keyId, (u = { uses: 0, lastUsed: 0, addresses: [] }));
    u.uses += uses;
    if (lastUsed > u.lastUsed) u.lastUsed = lastUsed;
    mergeAddressTuples(u.addresses, addresses);
  }

  has(keyId: string): boolean {
    return this.keys.has(keyId);
  }

  get(keyId: string): KeyUsage | undefined {
    const u = this.keys.get(keyId);
    if (!u) return undefined;
    const out: KeyUsage = { keyId, uses: u.uses, lastUsedFrom: newestFirst(u.addresses).map(([address, lastSeen]) => ({ address, lastSeen })) };
    if (u.lastUsed > 0) out.lastUsed = u.lastUsed;
    return out;
  }

  all(): KeyUsage[] {
    return [...this.keys.keys()].map((k) => this.get(k)!);
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

/** A line of a raw usage file: the flush time and its counts, and the flush's name (a flush sent again looks for it). */
export interface RawBatch {
  t: number;
  c: RawCount[];
  i?: string;
}

export function isRawBatch(x: unknown): x is RawBatch {
  const r = x as RawBatch;
  return typeof r === 'object' && r !== null && Number.isFinite(r.t) && Array.isArray(r.c) && r.c.every(isRawCount) && (r.i === undefined || typeof r.i === 'string');
}

/** A rolled-up file (an hour of minutes, a day of hours, or every last use): key → buckets. */
export interface SumFile {
  keys: Record<string, KeyBuckets>;
  /**
   * An hour's or a day's sum: each flusher's latest flush folded in (its
   * name's number), so a flush sent again once its raw line was folded away
   * is still found (usage-aggregates.ts recordFlush). A flusher sends its
   * flushes in order, each after the one before was written: one folded
   * under a number as high says that flush is there.
   */
  f?: Record<string, number>;
  /** An hour's sum: the bytes of its raw file folded in (the rest is read from the raw file). */
  rawOffset?: number;
  /** last-used.json: how far it has folded each hour's raw file that still exists. */
  folded?: Record<string, number>;
}

export function isSumFile(x: unknown): x is SumFile {
  const s = x as SumFile;
  return (
    typeof s === 'object' &&
    s !== null &&
    typeof s.keys === 'object' &&
    s.keys !== null &&
    !Array.isArray(s.keys) &&
    Object.values(s.keys).every(isKeyBuckets) &&
    (s.rawOffset === undefined || (Number.isSafeInteger(s.rawOffset) && s.rawOffset >= 0)) &&
    (s.f === undefined || (typeof s.f === 'object' && s.f !== null && !Array.isArray(s.f) && Object.values(s.f).every((n) => Number.isSafeInteger(n)))) &&
    (s.folded === undefined || (typeof s.folded === 'object' && s.folded !== null && Object.values(s.folded).every((o) => Number.isSafeInteger(o) && o >= 0)))
  );
}

/** A flush's name as a raw line carries it: `flusher.number`. */
export const flushName = (flush: FlushId): string => `${flush.by}.${flush.seq}`;

/** A flush's name (flushName) parted; undefined for any other text. */
export function flushParts(name: string): FlushId | undefined {
  const dot = name.lastIndexOf('.');
  const seq = Number(name.slice(dot + 1));
  return dot > 0 && Number.isSafeInteger(seq) ? { by: name.slice(0, dot), seq } : undefined;
}

/** Notes in a sum's flushes (SumFile f), in place, that `flush` was folded in: each flusher's highest. */
export function noteFlushFolded(into: Record<string, number>, flush: FlushId | undefined): void {
  if (flush && !(into[flush.by] >= flush.seq)) into[flush.by] = flush.seq;
}
