// `keyward store copy`: moves a tenant — settings, users, keys, events and
// usage — from one store to another of any kind (JSON ↔ PostgreSQL), through
// the store boundary alone. Keys are copied with their hashes, so every token
// keeps working against the new store. A target that already holds a tenant
// is refused: a copy never merges into, or overwrites, somebody's data.

import type { ApiKey } from '../domain.js';
import { eventPagesOldestFirst } from './all-events.js';
import { type Clock, systemClock } from '../clock.js';
import { randomHex } from '../random.js';
import { KeywardError, refuse } from '../refusal.js';
import type { KeyUsage, Store, UsageCount } from './boundary.js';

export interface CopyReport {
  tenant: string;
  users: number;
  keys: number;
  events: number;
  /** Keys with usage carried over. */
  keysWithUsage: number;
}

const PAGE = 1000;
const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
/** How far back usage is looked for: past any retention a tenant sets. */
const USAGE_HORIZON_DAYS = 400;

/** How far a copy has got, told after each page written (a million events take minutes). */
export interface CopyProgress {
  keys: number;
  /** Every key is copied: the events are being copied now. */
  keysCopied: boolean;
  events: number;
  /**
   * When the last event copied happened (epoch ms), once one is: the events
   * are read once, oldest first (eventPagesOldestFirst), so how many there
   * are is not known until the end, and this says how far the copy has got.
   */
  eventsThrough?: number;
}

export async function copyStore(from: Store, to: Store, clock: Clock = systemClock, progress?: (p: CopyProgress) => void): Promise<CopyReport> {
  const tenant = await from.tenant();
  if (!tenant) refuse('INVALID_INPUT', `There is no Keyward tenant at ${from.location} to copy.`);
  if (await to.tenant()) refuse('INVALID_INPUT', `${to.location} already holds a Keyward tenant; a copy only goes into an empty store, so nothing was changed.`);
  const now = clock.now();
  const users = await from.listUsers();

  if (!(await to.create({ tenant, users, events: [] }))) {
    refuse('INVALID_INPUT', `${to.location} already holds a Keyward tenant; a copy only goes into an empty store, so nothing was changed.`);
  }
  // A page at a time, read and written: memory follows a page, not the store (a million events held at once
  // took half a gigabyte). Only the keys' ids are kept, for their usage.
  const keyIds: string[] = [];
  let events = 0;
  let keysCopied = false;
  let eventsThrough: number | undefined;
  const tell = () => progress?.({ keys: keyIds.length, keysCopied, events, ...(eventsThrough === undefined ? {} : { eventsThrough }) });
  try {
    for await (const page of keyPages(from, now)) {
      await to.transact((tx) => page.forEach((k) => tx.putKey(k)));
      for (const k of page) keyIds.push(k.id);
      tell();
    }
    keysCopied = true;
    tell();
    // Oldest first: the order the target must append them in.
    for await (const page of eventPagesOldestFirst(from, {}, PAGE)) {
      await to.append(page);
      events += page.length;
      const at = Date.parse(page[page.length - 1].eventTime);
      if (!Number.isNaN(at)) eventsThrough = at;
      tell();
    }
    const usage = await usageOf(from, keyIds, now);
    // Each page named as a flush (boundary.ts recordUsage): one whose answer was lost is told by its name once its
    // backend is gone (PostgreSQL's usage_flushes), where counts alone leave nothing to look for.
    const by = randomHex(8);
    for (let i = 0, seq = 1; i < usage.counts.length; i += PAGE, seq++) await to.recordUsage(usage.counts.slice(i, i + PAGE), [], { by, seq });
    // Every page answered: none is sent again.
    if (usage.counts.length > 0) await to.flusherDone?.(by).catch(() => undefined);
    return { tenant: tenant.name, users: users.length, keys: keyIds.length, events, keysWithUsage: usage.keys };
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new KeywardError(e instanceof KeywardError ? e.code : 'UNAVAILABLE', `The copy into ${to.location} stopped halfway (${why}); empty that store and run the copy again.`);
  }
}

/** Every key, a page at a time, in creation order. */
async function* keyPages(from: Store, now: number): AsyncGenerator<ApiKey[]> {
  let page = await from.findKeys({ limit: PAGE, order: 'created', now });
  if (page.data.length > 0) yield page.data;
  while (page.hasNext && page.data.length > 0) {
    page = await from.findKeys({ limit: PAGE, order: 'created', now, startingAfter: page.data[page.data.length - 1].id });
    if (page.data.length > 0) yield page.data;
  }
}

/**
 * The boundary answers usage as sums since a time, so the copy rebuilds it
 * in buckets — hours for the last two days, days before — that the target
 * sums back to the same answers at that grain; then each key's last use and
 * addresses, which outlive the minutes.
 */
async function usageOf(from: Store, keyIds: string[], now: number): Promise<{ counts: UsageCount[]; keys: number }> {
  const totals = new Map((await from.usageSince(0)).map((u) => [u.keyId, u.uses]));
  const counts: UsageCount[] = [];
  const carried = new Map<string, number>();
  const done = () => [...totals].every(([k, n]) => (carried.get(k) ?? 0) >= n);
  let end = now + 1;
  for (const start of bucketStarts(now)) {
    if (done()) break;
    // Sums since `start` include every newer bucket; what is new is this bucket's.
    for (const u of await from.usageSince(start)) {
      const before = carried.get(u.keyId) ?? 0;
      if (u.uses <= before) continue;
      counts.push({ keyId: u.keyId, minute: Math.floor(start / MINUTE), uses: u.uses - before, lastUsed: Math.min(u.lastUsed ?? end - 1, end - 1) });
      carried.set(u.keyId, u.uses);
    }
    end = start;
  }
  const last = await lastUses(from, keyIds);
  for (const u of last) counts.push({ keyId: u.keyId, minute: Math.floor((u.lastUsed ?? 0) / MINUTE), uses: 0, lastUsed: u.lastUsed ?? 0, addresses: u.lastUsedFrom.length ? u.lastUsedFrom : undefined });
  return { counts, keys: new Set(counts.map((c) => c.keyId)).size };
}

/** Newest first: the last 48 hours by the hour, then whole days back to the horizon. */
function bucketStarts(now: number): number[] {
  const starts: number[] = [];
  let start = Math.floor(now / HOUR) * HOUR;
  for (let i = 0; i < 48; i++, start -= HOUR) starts.push(start);
  for (start = Math.floor(start / DAY) * DAY; start >= now - USAGE_HORIZON_DAYS * DAY; start -= DAY) starts.push(start);
  return starts;
}

async function lastUses(from: Store, keyIds: string[]): Promise<KeyUsage[]> {
  const out: KeyUsage[] = [];
  for (let i = 0; i < keyIds.length; i += PAGE) out.push(...(await from.lastUsedOf(keyIds.slice(i, i + PAGE))).values());
  return out;
}
