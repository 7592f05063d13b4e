// Creates sent whole (expectations.ts) that wait behind one another go
// together: while one statement of this server is out, the creates decided
// meanwhile queue, and all that can share a transaction go in the next
// statement — one transaction, one disk flush, one NOTIFY, one answer, and
// one notification for every other server to parse instead of one each.
// Each create was decided on its own expectations; the statement checks
// them all under all their locks and commits all or nothing, so each holds
// at commit as if it had gone alone. Refused because one of them no longer
// held, nothing was written, and each goes again alone, as it would have
// without the others (the one refused again runs the locking way). Two
// creates that expect different things of one record (the tenant, a user as
// seen, an owner's count) cannot share a statement: the later one waits for
// the next. A statement held up (at a lock another session holds) holds the
// queue back only for a moment (HELD_BACK_MS).
//
// On a busy server, creates from many clients mostly arrive one at a time,
// each after the last one's statement was answered, and would each pay a
// whole statement (in the two-server mix, 1.3 ms of the database's CPU, most
// of it not per key). So where creates have lately overlapped — one asked
// while another waited or was out — a lone create waits a moment
// (GATHER_MS) for others to share its statement, as PostgreSQL's own
// commit_delay waits for other commits when commit_siblings are active. A
// client creating one key after another never overlaps itself, so it never
// waits; neither does a server whose creates are rare.

import type { ApiKey, KeywardEvent } from '../../domain.js';
import { changeOf } from '../change-signal.js';
import type { Change } from './changes.js';
import { Expectations } from './expectations.js';

/** One create as putWhole sends it. */
export interface Whole {
  expected: Expectations;
  keys: readonly ApiKey[];
  events: readonly KeywardEvent[];
  change: Change;
}

/** 'changed since seen': nothing was written, refused by the check (an expectation no longer held); 'not written': nothing was, for another reason. */
export type WholeFate = 'committed' | 'not written' | 'changed since seen' | 'committed, maybe not announced';

// Keys in one statement at most: their records ride in its notification, which must stay under
// changes.ts's MAX_PAYLOAD for listeners to take the keys from it rather than read them again.
const MAX_KEYS = 12;

// A statement out this long (waiting at a lock another session holds, say) no longer holds back the
// creates queued behind it: they go in one of their own, so one owner's wait is not everyone's.
const HELD_BACK_MS = 50;

// How long a lone create waits for others to share its statement, where creates overlap. In the two-server
// mix (bench/mix-probe.ts), 4 ms put 1.7 creates in a statement instead of 1.15, and cut the database's CPU
// per request by a third; a create answers that much later, beside its disk flush and round trips.
const GATHER_MS = 4;
// Of recent creates, the share that overlapped another (a running average over about OVERLAP_SPAN of them)
// from which a lone create waits: a stream of creates from several clients, not one client's one by one.
const OVERLAP_SPAN = 16;
const OVERLAPPING = 0.25;

interface Waiting {
  whole: Whole;
  /** When it was submitted. */
  at: number;
  resolve(fate: WholeFate): void;
  reject(e: unknown): void;
}

export class WholeBatches {
  private out = 0;
  /** When the last statement went out. */
  private sentAt = 0;
  private timer?: NodeJS.Timeout;
  private readonly queue: Waiting[] = [];
  /** The share of recent creates submitted while another waited or was out (OVERLAP_SPAN). */
  private overlap = 0;

  /** `put` sends one create (or several merged into one) as one statement. */
  constructor(private readonly put: (whole: Whole) => Promise<WholeFate>) {}

  /** What became of `whole`: the fate of the statement it went in. */
  submit(whole: Whole): Promise<WholeFate> {
    return new Promise<WholeFate>((resolve, reject) => {
      const overlapped = this.queue.length > 0 || this.out > 0 ? 1 : 0;
      this.overlap += (overlapped - this.overlap) / OVERLAP_SPAN;
      this.queue.push({ whole, at: performance.now(), resolve, reject });
      this.next();
    });
  }

  /**
   * Sends what waits, unless a statement went out less than HELD_BACK_MS
   * ago: then at its answer, or that moment. With none out, where creates
   * overlap, once the first waiting has waited GATHER_MS (or a statement's
   * worth of keys waits).
   */
  private next(): void {
    if (this.queue.length === 0) return;
    const now = performance.now();
    const wait = this.out > 0 ? this.sentAt + HELD_BACK_MS - now : this.gathering() ? this.queue[0].at + GATHER_MS - now : 0;
    if (wait > 0) {
      // Set again each time: a statement's answer may end a wait for it (HELD_BACK_MS) in a shorter one (GATHER_MS).
      clearTimeout(this.timer);
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.next();
      }, wait);
      return;
    }
    clearTimeout(this.timer);
    this.timer = undefined;
    void this.send(this.takeBatch());
  }

  /** Whether the creates waiting wait for more to share their statement: creates overlap, and there is room. */
  private gathering(): boolean {
    if (this.overlap < OVERLAPPING) return false;
    let keys = 0;
    for (const w of this.queue) keys += w.whole.keys.length;
    return keys < MAX_KEYS;
  }

  private async send(batch: Waiting[]): Promise<void> {
    this.out++;
    this.sentAt = performance.now();
    const fate = await this.put(batch.length === 1 ? batch[0].whole : merged(batch.map((w) => w.whole))).catch((e: unknown) => ({ failed: e }));
    this.out--;
    if ((fate === 'not written' || fate === 'changed since seen') && batch.length > 1) {
      // Nothing was written: whichever create's expectation no longer held, the others' may, so each goes alone.
      for (const w of batch) void this.put(w.whole).then(w.resolve, w.reject);
    } else {
      for (const w of batch) {
        if (typeof fate === 'string') w.resolve(fate);
        else w.reject(fate.failed);
      }
    }
    this.next();
  }

  /** The first waiting, and those after it that can share its statement (the rest wait for the next). */
  private takeBatch(): Waiting[] {
    // One waiting (creates one after another): it goes alone, without the
    // Shared that would stringify the tenant and users only to admit no one.
    if (this.queue.length === 1) return this.queue.splice(0, 1);
    const batch = [this.queue[0]];
    const shared = new Shared(this.queue[0].whole);
    let keys = this.queue[0].whole.keys.length;
    for (let i = 1; i < this.queue.length; i++) {
      const w = this.queue[i].whole;
      if (keys + w.keys.length > MAX_KEYS || !shared.admits(w)) continue;
      shared.add(w);
      keys += w.keys.length;
      batch.push(this.queue[i]);
    }
    const taken = new Set(batch);
    const rest = this.queue.filter((w) => !taken.has(w));
    this.queue.length = 0;
    this.queue.push(...rest);
    return batch;
  }
}

/** What the creates of one statement expect, so far: a create that expects otherwise of any of it waits. */
class Shared {
  private tenant?: string;
  private readonly users = new Map<string, string>();
  private readonly owners = new Set<string>();

  constructor(first: Whole) {
    this.add(first);
  }

  admits(w: Whole): boolean {
    const e = w.expected;
    if (e.tenant !== undefined && this.tenant !== undefined && text(e.tenant.value) !== this.tenant) return false;
    for (const [id, u] of e.users) if (this.users.has(id) && this.users.get(id) !== text(u)) return false;
    for (const owner of e.counts.keys()) if (this.owners.has(owner)) return false;
    return true;
  }

  add(w: Whole): void {
    const e = w.expected;
    if (e.tenant !== undefined) this.tenant = text(e.tenant.value);
    for (const [id, u] of e.users) this.users.set(id, text(u));
    for (const owner of e.counts.keys()) this.owners.add(owner);
  }
}

const text = (v: unknown): string => JSON.stringify(v) ?? 'undefined';

/**
 * The creates as one: every expectation of each, the users to lock in one
 * order (by id) whatever order each create read them in — two servers'
 * statements locking the same users in different orders would deadlock —
 * their keys and events in order, and one change naming all they made.
 */
export function merged(wholes: readonly Whole[]): Whole {
  const expected = new Expectations();
  const locked = new Set<string>();
  for (const { expected: e } of wholes) {
    if (e.tenant !== undefined) expected.tenant = e.tenant;
    for (const [id, u] of e.users) expected.users.set(id, u);
    for (const [owner, c] of e.counts) expected.counts.set(owner, c);
    for (const id of e.absentKeys) expected.absentKeys.add(id);
    for (const id of e.locked) locked.add(id);
  }
  for (const id of [...locked].sort()) expected.lock(id);
  const changes = wholes.map((w) => w.change);
  const change: Change = changeOf({
    tenant: changes.some((c) => c.tenant),
    userIds: [...new Set(changes.flatMap((c) => c.userIds ?? []))],
    keyIds: changes.flatMap((c) => c.keyIds ?? []),
  });
  if (changes.every((c) => c.keyOwners !== undefined)) change.keyOwners = [...new Set(changes.flatMap((c) => c.keyOwners!))];
  if (changes.every((c) => c.made !== undefined)) change.made = changes.flatMap((c) => c.made!);
  return { expected, keys: wholes.flatMap((w) => w.keys), events: wholes.flatMap((w) => w.events), change };
}
