import { appendFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EVENT_TYPES, type KeywardEvent } from '../src/domain.js';
import { newEvent } from '../src/events.js';
import type { EventFind } from '../src/store/boundary.js';
import { checkedLine } from '../src/store/json/checked-line.js';
import { EventSegments } from '../src/store/json/event-segments.js';

const T0 = Date.parse('2026-11-20T00:00:00.000Z');
const H = 3_600_000;

function tempDir(): string {
  return join(mkdtempSync(join(tmpdir(), 'keyward-segments-')), 'store.events');
}

/** Events spread over `days` days, a few per hour, of mixed types, keys and users. */
function history(days: number, perDay: number): KeywardEvent[] {
  const out: KeywardEvent[] = [];
  for (let i = 0; i < days * perDay; i++) {
    const t = T0 + Math.floor((i * days * 24 * H) / (days * perDay));
    const type = EVENT_TYPES[i % EVENT_TYPES.length];
    out.push(newEvent(type, t, `user${i % 3}`, i % 4 === 0 ? undefined : `key${i % 5}`, { n: i }));
  }
  return out;
}

/** What a page must be: every event, newest first, filtered, sliced by cursor. */
function expected(all: KeywardEvent[], q: EventFind): KeywardEvent[] {
  const since = q.since === undefined ? undefined : new Date(q.since).toISOString();
  const until = q.until === undefined ? undefined : new Date(q.until).toISOString();
  return [...all]
    .reverse()
    .filter(
      (e) =>
        (!q.types || q.types.includes(e.eventType)) &&
        (!q.excludeTypes || !q.excludeTypes.includes(e.eventType)) &&
        (q.keyId === undefined || e.keyId === q.keyId) &&
        (q.userId === undefined || e.userId === q.userId) &&
        (since === undefined || e.eventTime >= since) &&
        (until === undefined || e.eventTime <= until),
    );
}

/** Changes a line's text without changing its length or its checksum: the line no longer checks. */
function damageInPlace(file: string, what: string, instead: string): void {
  const text = readFileSync(file, 'utf8');
  const at = text.indexOf(what);
  writeFileSync(file, text.slice(0, at) + instead + text.slice(at + what.length));
}

async function pageAll(segments: EventSegments, q: Omit<EventFind, 'limit'>, limit: number): Promise<KeywardEvent[]> {
  const seen: KeywardEvent[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await segments.find({ ...q, limit, startingAfter: after });
    seen.push(...page.data);
    expect(page.hasPrev).toBe(after !== undefined);
    if (!page.hasNext) return seen;
    after = page.data[page.data.length - 1].id;
  }
}

describe('event day segments', () => {
  it('pages newest first through every day with keyset cursors, in both directions, across chunk edges', async () => {
    const dir = tempDir();
    const all = history(5, 60);
    const segments = new EventSegments(dir, { chunkBytes: 97 });
    // Appended in several batches, as flushes and transactions do.
    for (let i = 0; i < all.length; i += 37) await segments.append(all.slice(i, i + 37));
    expect(await segments.days()).toEqual(['2026-11-20', '2026-11-21', '2026-11-22', '2026-11-23', '2026-11-24']);

    const seen = await pageAll(segments, {}, 7);
    expect(seen.map((e) => e.id)).toEqual(expected(all, { limit: 0 }).map((e) => e.id));

    // Back one page from the middle of the list.
    const at = 150;
    const back = await segments.find({ limit: 7, endingBefore: seen[at].id });
    expect(back.data.map((e) => e.id)).toEqual(seen.slice(at - 7, at).map((e) => e.id));
    expect(back.hasPrev).toBe(true);
    expect(back.hasNext).toBe(true);
    const first = await segments.find({ limit: 7, endingBefore: seen[3].id });
    expect(first.data.map((e) => e.id)).toEqual(seen.slice(0, 3).map((e) => e.id));
    expect(first.hasPrev).toBe(false);
  });

  it('pages oldest first through every day (the oldest page, then each newer one), filtered, across chunk edges', async () => {
    const dir = tempDir();
    const all = history(5, 60);
    const segments = new EventSegments(dir, { chunkBytes: 97 });
    for (let i = 0; i < all.length; i += 37) await segments.append(all.slice(i, i + 37));
    for (const q of [{}, { excludeTypes: ['api-key.used' as const] }, { since: T0 + 30 * H, until: T0 + 90 * H }]) {
      const seen: string[] = [];
      let page = await segments.find({ ...q, limit: 7, oldestFirst: true });
      expect(page.hasNext).toBe(false);
      for (;;) {
        seen.push(...page.data.map((e) => e.id).reverse());
        if (!page.hasPrev) break;
        page = await segments.find({ ...q, limit: 7, endingBefore: page.data[0].id });
      }
      expect(seen).toEqual(expected(all, { ...q, limit: 0 }).map((e) => e.id).reverse());
    }
  });

  it('finds the cursor at a page end where it was, and searches for it where its day was written again (lines moved)', async () => {
    const dir = tempDir();
    const all = history(2, 200);
    const segments = new EventSegments(dir, { chunkBytes: 97, onMalformed: () => undefined });
    await segments.append(all);
    const first = await segments.find({ limit: 20 });
    // The day of the page's last event written again with a line before all others: every line moved.
    const cursor = first.data[19];
    const file = join(dir, `${cursor.eventTime.slice(0, 10)}.jsonl`);
    writeFileSync(file, `not an event\n${readFileSync(file, 'utf8')}`);
    const next = await segments.find({ limit: 20, startingAfter: cursor.id });
    expect(next.data.map((e) => e.id)).toEqual(expected(all, { limit: 0 }).slice(20, 40).map((e) => e.id));
    // And where nothing moved, from the page's remembered end.
    const after = await segments.find({ limit: 20, startingAfter: next.data[19].id });
    expect(after.data.map((e) => e.id)).toEqual(expected(all, { limit: 0 }).slice(40, 60).map((e) => e.id));
  });

  it('filters by type, excluded types, key, user and time, matching a scan of everything', async () => {
    const dir = tempDir();
    const all = history(4, 50);
    const segments = new EventSegments(dir, { chunkBytes: 256, now: () => T0 + 10 * 24 * H });
    await segments.append(all);
    const questions: Omit<EventFind, 'limit'>[] = [
      { types: ['api-key.used'] },
      { types: ['api-key.revoked', 'user.added'] },
      { excludeTypes: ['api-key.used', 'api-key.auth-failed'] },
      { keyId: 'key3' },
      { keyId: 'nokey' },
      { userId: 'user1', types: ['api-key.generated'] },
      { since: T0 + 30 * H, until: T0 + 70 * H },
      { since: T0 + 90 * H },
    ];
    for (const q of questions) {
      // Twice: the first full scan of a closed day leaves its index, the second uses it.
      for (let round = 0; round < 2; round++) {
        const got = await pageAll(segments, q, 9);
        expect(got.map((e) => e.id), JSON.stringify(q)).toEqual(expected(all, { ...q, limit: 0 }).map((e) => e.id));
      }
    }
    expect(existsSync(join(dir, '2026-11-21.idx.json'))).toBe(true);
    // Events appended to a day after its index was written are still found.
    const late = newEvent('api-key.deleted', T0 + 5 * H, 'user9', 'key9', {});
    await segments.append([late]);
    expect((await segments.find({ limit: 5, keyId: 'key9' })).data.map((e) => e.id)).toEqual([late.id]);
  });

  it('skips the part of a closed day its index rules out', async () => {
    const dir = tempDir();
    const now = () => T0 + 10 * 24 * H;
    const all = history(2, 30);
    await new EventSegments(dir, { now }).append(all);
    await pageAll(new EventSegments(dir, { now }), { keyId: 'key1' }, 10);
    // Damage a line of the first day in place: a search the index rules out never reads it.
    const file = join(dir, '2026-11-20.jsonl');
    damageInPlace(file, '"n":3', '"n":9');
    const reports: string[] = [];
    const segments = new EventSegments(dir, { now, onMalformed: (f) => reports.push(f) });
    expect(await pageAll(segments, { keyId: 'nokey' }, 10)).toEqual([]);
    expect(await pageAll(segments, { userId: 'nobody', types: ['api-key.used'] }, 10)).toEqual([]);
    expect(reports).toEqual([]);
    await pageAll(segments, { keyId: 'key1' }, 10);
    expect(reports).toEqual([file]);
  });

  it("indexes today's segment too, once it has grown by a mebibyte, and reads only what came after", async () => {
    const dir = tempDir();
    const now = () => T0 + 23 * H;
    const all = history(1, 7000);
    await new EventSegments(dir, { now }).append(all);
    const file = join(dir, '2026-11-20.jsonl');
    expect(statSync(file).size).toBeGreaterThan(1 << 20);
    expect(await pageAll(new EventSegments(dir, { now }), { keyId: 'nokey' }, 10)).toEqual([]);
    expect(existsSync(join(dir, '2026-11-20.idx.json'))).toBe(true);
    damageInPlace(file, '"n":3}', '"n":9}');
    const reports: string[] = [];
    const segments = new EventSegments(dir, { now, onMalformed: (f) => reports.push(f) });
    const late = newEvent('api-key.revoked', T0 + 22 * H, 'user1', 'nokey', {});
    await segments.append([late]);
    expect((await pageAll(segments, { keyId: 'nokey' }, 10)).map((e) => e.id)).toEqual([late.id]);
    expect(reports).toEqual([]);
  });

  it('skips the blocks of a day whose types or time span rule them out', async () => {
    const dir = tempDir();
    const now = () => T0 + 10 * 24 * H;
    // A busy day of uses, with a revoke near its start and one near its end.
    const day: KeywardEvent[] = [];
    for (let i = 0; i < 8000; i++) {
      const type = i === 10 || i === 7990 ? 'api-key.revoked' : 'api-key.used';
      day.push(newEvent(type, T0 + i * 10_000, 'user1', `key${i % 20}`, { uses: i }));
    }
    await new EventSegments(dir, { now }).append(day);
    await pageAll(new EventSegments(dir, { now }), { keyId: 'nokey' }, 10); // reads the day through: its index
    const index = JSON.parse(readFileSync(join(dir, '2026-11-20.idx.json'), 'utf8'));
    expect(index.blocks.length).toBeGreaterThan(3);
    // Damage a line in the first block in place: searches that rule that block out never read it.
    const file = join(dir, '2026-11-20.jsonl');
    damageInPlace(file, '"uses":3}', '"uses":9}');
    const reports: string[] = [];
    const segments = new EventSegments(dir, { now, onMalformed: (f) => reports.push(f) });
    const late = await pageAll(segments, { types: ['api-key.revoked'], since: T0 + 7000 * 10_000 }, 10);
    expect(late.map((e) => e.id)).toEqual([day[7990].id]);
    const middle = await pageAll(segments, { types: ['api-key.used'], since: T0 + 3000 * 10_000, until: T0 + 3005 * 10_000 }, 10);
    expect(middle.map((e) => e.id)).toEqual(day.slice(3000, 3006).reverse().map((e) => e.id));
    expect(reports).toEqual([]);
    // A search its index cannot rule out still reads the damaged block, skips the line and says so.
    expect((await pageAll(segments, { types: ['api-key.revoked'] }, 10)).map((e) => e.id)).toEqual([day[7990].id, day[10].id]);
    expect(reports).toEqual([file]);
  });

  it('does not open days outside the time window', async () => {
    const dir = tempDir();
    const reports: string[] = [];
    const segments = new EventSegments(dir, { onMalformed: (f) => reports.push(f) });
    const all = history(3, 20);
    await segments.append(all);
    // The first day is damaged: a search of the last day must never notice.
    appendFileSync(join(dir, '2026-11-20.jsonl'), 'garbage\n');
    const page = await segments.find({ limit: 5, since: T0 + 48 * H });
    expect(page.data).toHaveLength(5);
    expect(reports).toEqual([]);
    // A first page stops in the newest day.
    await segments.find({ limit: 5 });
    expect(reports).toEqual([]);
    await pageAll(segments, {}, 50);
    expect(reports).toEqual([join(dir, '2026-11-20.jsonl')]);
  });

  it('skips and reports once the lines that are not events: null, 123, {}, half a line, a bad checksum', async () => {
    const dir = tempDir();
    const reports: [string, number][] = [];
    const segments = new EventSegments(dir, { onMalformed: (f, n) => reports.push([f, n]) });
    const good = history(1, 4);
    await segments.append(good.slice(0, 2));
    const file = join(dir, '2026-11-20.jsonl');
    const line = checkedLine(good[0]);
    appendFileSync(file, ['null', '123', '{}', checkedLine(null), checkedLine(123), checkedLine({}), line.slice(0, 30), line.replace('"n":0', '"n":1'), ''].join('\n'));
    // A writer killed mid-line: the next append starts on a fresh line and is read.
    appendFileSync(file, line.slice(0, 40));
    await segments.append(good.slice(2));
    for (let i = 0; i < 3; i++) {
      const page = await segments.find({ limit: 10 });
      expect(page.data.map((e) => e.id)).toEqual([...good].reverse().map((e) => e.id));
    }
    expect(reports).toEqual([[file, 9]]);
  });

  it('creates private files, never follows a symlinked segment, and refuses a bad cursor', async () => {
    const dir = tempDir();
    const segments = new EventSegments(dir);
    const [a, b] = history(2, 1);
    await segments.append([a]);
    expect(statSync(join(dir, '2026-11-20.jsonl')).mode & 0o777).toBe(0o600);
    const target = join(dir, '..', 'target.txt');
    writeFileSync(target, 'keep\n');
    symlinkSync(target, join(dir, '2026-11-21.jsonl'));
    await expect(segments.append([b])).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(readFileSync(target, 'utf8')).toBe('keep\n');
    // A symlink in place of the segments' directory is refused too.
    const elsewhere = mkdtempSync(join(tmpdir(), 'keyward-elsewhere-'));
    const linked = join(dir, '..', 'linked.events');
    symlinkSync(elsewhere, linked);
    await expect(new EventSegments(linked).append([a])).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(readdirSync(elsewhere)).toEqual([]);
    await expect(segments.find({ limit: 1, startingAfter: 'zz' })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(segments.find({ limit: 1, startingAfter: newEvent('user.added', T0 + 60_000, 'x', undefined, {}).id })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('retention removes whole days while a reader pages through them: the reader sees fewer events, never an error', async () => {
    const dir = tempDir();
    const segments = new EventSegments(dir, { chunkBytes: 128 });
    const all = history(6, 30);
    await segments.append(all);
    const first = await segments.find({ limit: 40 });
    let after = first.data[first.data.length - 1].id;
    let count = first.data.length;
    let removed = false;
    for (;;) {
      // Half way, everything but the newest day goes, including the cursor's own day.
      if (!removed && count >= 60) {
        await segments.removeBefore(T0 + 5 * 24 * H);
        removed = true;
      }
      const page = await segments.find({ limit: 40, startingAfter: after });
      count += page.data.length;
      if (!page.hasNext) break;
      after = page.data[page.data.length - 1].id;
    }
    expect(removed).toBe(true);
    expect(count).toBeLessThan(all.length);
    expect(await segments.days()).toEqual(['2026-11-25']);
    // The cursor's day is gone: back-paging from it simply finds what is newer.
    const back = await segments.find({ limit: 5, endingBefore: first.data[35].id });
    expect(back.data.length).toBe(5);
  });

  it('group-commits concurrent appends and keeps each batch in order', async () => {
    const dir = tempDir();
    const segments = new EventSegments(dir);
    const all = history(1, 200);
    await Promise.all(Array.from({ length: 20 }, (_, i) => segments.append(all.slice(i * 10, i * 10 + 10))));
    const got = await segments.find({ limit: 1000 });
    expect(new Set(got.data.map((e) => e.id))).toEqual(new Set(all.map((e) => e.id)));
    for (let i = 0; i < 20; i++) {
      const batch = got.data.filter((e) => (e.data.n as number) >= i * 10 && (e.data.n as number) < i * 10 + 10).map((e) => e.data.n);
      expect(batch).toEqual([...batch].sort((x, y) => (y as number) - (x as number)));
    }
  });

  it('finds a cursor deep in an indexed day of many blocks, and one whose id does not carry its time, in both directions', async () => {
    const dir = tempDir();
    // One day of 3000 events of about 400 bytes: some 1.2 MB, five blocks of the day's index.
    const all: KeywardEvent[] = [];
    for (let i = 0; i < 3000; i++) all.push(newEvent(EVENT_TYPES[i % EVENT_TYPES.length], T0 + i * 20_000, 'user1', `key${i % 5}`, { n: i, pad: 'x'.repeat(300) }));
    // An event from elsewhere, its id's time an hour off its eventTime: the index cannot place it.
    all[1500] = { ...all[1500], id: (T0 + 1500 * 20_000 + H).toString(36).padStart(9, '0') + 'f00d1' };
    const segments = new EventSegments(dir, { now: () => T0 + 10 * 24 * H });
    for (let i = 0; i < all.length; i += 250) await segments.append(all.slice(i, i + 250));
    // A search that matches nothing reads the closed day through and leaves its index.
    expect((await segments.find({ limit: 5, keyId: 'no-such-key' })).data).toEqual([]);
    const index = JSON.parse(readFileSync(join(dir, '2026-11-20.idx.json'), 'utf8')) as { blocks: unknown[] };
    expect(index.blocks.length).toBeGreaterThan(3);

    const newestFirst = expected(all, { limit: 0 }).map((e) => e.id);
    expect((await pageAll(segments, {}, 50)).map((e) => e.id)).toEqual(newestFirst);
    for (const at of [10, 1499, 1500, 1501, 2990]) {
      const older = await segments.find({ limit: 7, startingAfter: newestFirst[at] });
      expect(older.data.map((e) => e.id)).toEqual(newestFirst.slice(at + 1, at + 8));
      const newer = await segments.find({ limit: 7, endingBefore: newestFirst[at] });
      expect(newer.data.map((e) => e.id)).toEqual(newestFirst.slice(Math.max(0, at - 7), at));
    }
    await expect(segments.find({ limit: 7, startingAfter: (T0 + 5000).toString(36).padStart(9, '0') + 'aaaaa' })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});
