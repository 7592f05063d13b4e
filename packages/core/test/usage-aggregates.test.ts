import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, readdirSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { UsageCount } from '../src/store/boundary.js';
import { UsageAggregates } from '../src/store/json/usage-aggregates.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const recorderScript = fileURLToPath(new URL('./fixtures/usage-recorder.ts', import.meta.url));
const T0 = Date.parse('2026-11-20T00:00:00.000Z');
const MIN = 60_000;
const H = 3_600_000;
const D = 86_400_000;

function tempDir(): string {
  return join(mkdtempSync(join(tmpdir(), 'keyward-usage-')), 'store.usage');
}

function use(keyId: string, at: number, uses: number, address?: string): UsageCount {
  return { keyId, minute: Math.floor(at / MIN), uses, lastUsed: at, addresses: address ? [{ address, lastSeen: at }] : undefined };
}

const usesOf = (rows: { keyId: string; uses: number }[]) => Object.fromEntries(rows.filter((r) => r.uses > 0).map((r) => [r.keyId, r.uses]).sort());

describe('usage aggregates', () => {
  it('adds up what several servers record, per minute, and answers since a time', async () => {
    const dir = tempDir();
    let now = T0 + 10 * H;
    const a = new UsageAggregates(dir, { now: () => now, rollUpEveryMs: 0 });
    const b = new UsageAggregates(dir, { now: () => now, rollUpEveryMs: 0 });
    await a.record([use('k1', now - 5 * MIN, 3), use('k2', now - 5 * MIN, 1)]);
    await b.record([use('k1', now - 5 * MIN, 4)]);
    now += 30 * MIN;
    await a.record([use('k1', now - MIN, 10)]);
    await b.record([use('k3', now - MIN, 2)]);
    expect(usesOf(await a.usageSince(T0))).toEqual({ k1: 17, k2: 1, k3: 2 });
    expect(usesOf(await b.usageSince(now - 10 * MIN))).toEqual({ k1: 10, k3: 2 });
    // Named keys come back even unused; others are left out.
    const named = await a.usageSince(now - 10 * MIN, ['k2', 'k3']);
    expect(named.map((r) => [r.keyId, r.uses]).sort()).toEqual([
      ['k2', 0],
      ['k3', 2],
    ]);
    expect(statSync(join(dir, '2026-11-20T10.jsonl')).mode & 0o777).toBe(0o600);
  });

  it('keeps the last use and the last five distinct addresses, newest first', async () => {
    const dir = tempDir();
    const now = T0 + 3 * H;
    const usage = new UsageAggregates(dir, { now: () => now, rollUpEveryMs: 0 });
    for (let i = 0; i < 8; i++) await usage.record([use('k1', now - (20 - i) * MIN, 1, `10.0.0.${i % 6}`)]);
    const last = (await usage.lastUsedOf(['k1', 'never'])).get('k1')!;
    expect(last.lastUsed).toBe(now - 13 * MIN);
    expect(last.lastUsedFrom.map((x) => x.address)).toEqual(['10.0.0.1', '10.0.0.0', '10.0.0.5', '10.0.0.4', '10.0.0.3']);
    expect((await usage.lastUsedOf(['never'])).get('never')).toEqual({ keyId: 'never', uses: 0, lastUsedFrom: [] });
  });

  it('rolls closed hours up to minutes and old days up to hours, answering the same before and after', async () => {
    const dir = tempDir();
    let now = T0;
    const usage = new UsageAggregates(dir, { now: () => now, rollUpEveryMs: 0 });
    // Three days of two keys, a flush every 20 minutes, from two addresses.
    for (let t = T0; t < T0 + 3 * D; t += 20 * MIN) {
      now = t + 5_000;
      await usage.record([use('k1', t, 2, `a${(t / H) % 2}`), use('k2', t + 1000, 1)]);
    }
    now = T0 + 3 * D;
    const questions = [T0, T0 + D + 5 * H, T0 + 2 * D + 7 * H, T0 + 3 * D - 2 * H];
    const before = await Promise.all(questions.map((s) => usage.usageSince(s)));
    const lastBefore = await usage.lastUsedOf(['k1', 'k2']);
    // Minutes are kept for the last day: a question from mid-hour still counts only what follows.
    const midHour = T0 + 2 * D + 7 * H + 30 * MIN;
    const midBefore = await usage.usageSince(midHour);
    expect(usesOf(before[0])).toEqual({ k1: 432, k2: 216 });
    now = T0 + 3 * D + 15 * MIN;
    // What a writer killed mid-roll-up left: an old temporary goes, a fresh one (a roll-up in flight) stays.
    writeFileSync(join(dir, 'last-used.json.0123456789abcdef.tmp'), '{"ke');
    utimesSync(join(dir, 'last-used.json.0123456789abcdef.tmp'), new Date(Date.now() - H), new Date(Date.now() - H));
    writeFileSync(join(dir, 'last-used.json.fedcba9876543210.tmp'), '{"ke');
    expect(await usage.rollUp()).toBe(true);
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual(['last-used.json.fedcba9876543210.tmp']);
    const names = readdirSync(dir).sort();
    // Day one is a day sum (more than a day old); the rest are hour sums; last-used.json holds day one.
    expect(names).toContain('2026-11-20.sum.json');
    expect(names).toContain('last-used.json');
    expect(names).toContain('2026-11-22T23.sum.json');
    expect(names.filter((n) => n.endsWith('.jsonl'))).toEqual([]);
    expect(names.filter((n) => n.startsWith('2026-11-20T'))).toEqual([]);
    const after = await Promise.all(questions.map((s) => usage.usageSince(s)));
    expect(after.map(usesOf)).toEqual(before.map(usesOf));
    expect(usesOf(await usage.usageSince(midHour))).toEqual(usesOf(midBefore));
    expect(usesOf(midBefore)).toEqual({ k1: 98, k2: 49 });
    expect(await usage.lastUsedOf(['k1', 'k2'])).toEqual(lastBefore);
    // A second roll-up a day later folds the next day and answers still match for whole hours.
    now = T0 + 4 * D + 15 * MIN;
    await usage.rollUp();
    expect(readdirSync(dir)).toContain('2026-11-21.sum.json');
    expect((await Promise.all(questions.map((s) => usage.usageSince(s)))).map(usesOf)).toEqual(before.map(usesOf));
    // Retention drops whole days; the last use of a key stays known.
    await usage.removeBefore(T0 + 2 * D);
    expect(usesOf(await usage.usageSince(T0))).toEqual({ k1: 144, k2: 72 });
    expect((await usage.lastUsedOf(['k1'])).get('k1')!.lastUsed).toBe(lastBefore.get('k1')!.lastUsed);
    // "Last used" comes from last-used.json alone once everything is folded: no hour or day is read for it.
    for (const name of readdirSync(dir)) if (name.endsWith('.sum.json')) unlinkSync(join(dir, name));
    expect(await usage.lastUsedOf(['k1', 'k2'])).toEqual(lastBefore);
  });

  it('folds the open hour as it fills, and a reader racing the roll-ups never counts a use twice', async () => {
    const dir = tempDir();
    let now = T0 + 5 * H + 10 * MIN;
    const usage = new UsageAggregates(dir, { now: () => now, rollUpEveryMs: 0 });
    let recorded = 0;
    for (let i = 0; i < 40; i++) {
      now += 20_000;
      const before = recorded;
      const reading = usage.usageSince(T0);
      const rolling = usage.rollUp();
      await usage.record([use('k1', now, 1), use('k2', now, 2)]);
      recorded += 3;
      const total = (await reading).reduce((n, u) => n + u.uses, 0);
      expect(total).toBeGreaterThanOrEqual(before);
      expect(total).toBeLessThanOrEqual(recorded);
      await rolling;
      expect((await usage.usageSince(T0)).reduce((n, u) => n + u.uses, 0)).toBe(recorded);
    }
    // The open hour has a sum that says how far it folded, beside its raw file.
    const sum = JSON.parse(readFileSync(join(dir, '2026-11-20T05.sum.json'), 'utf8'));
    expect(sum.rawOffset).toBeGreaterThan(0);
    expect(readdirSync(dir)).toContain('2026-11-20T05.jsonl');
    // Once the hour has closed, its sum is whole and the raw file goes.
    now = T0 + 7 * H;
    await usage.rollUp();
    expect(readdirSync(dir).filter((n) => n.endsWith('.jsonl'))).toEqual([]);
    expect(JSON.parse(readFileSync(join(dir, '2026-11-20T05.sum.json'), 'utf8')).rawOffset).toBeUndefined();
    expect(usesOf(await usage.usageSince(T0))).toEqual({ k1: recorded / 3, k2: (2 * recorded) / 3 });
  });

  it('skips and reports once what is not a record, never crashing', async () => {
    const dir = tempDir();
    const now = T0 + H;
    const reports: string[] = [];
    const usage = new UsageAggregates(dir, { now: () => now, rollUpEveryMs: 0, onMalformed: (f) => reports.push(f) });
    await usage.record([use('k1', now - MIN, 5)]);
    const raw = join(dir, '2026-11-20T01.jsonl');
    appendFileSync(raw, 'null\n123\n{}\n00000000 {"t":1,"c":[]}\n');
    await usage.record([use('k1', now - MIN, 1)]);
    expect(usesOf(await usage.usageSince(T0))).toEqual({ k1: 6 });
    expect(usesOf(await usage.usageSince(T0))).toEqual({ k1: 6 });
    expect(reports).toEqual([raw]);
  });

  it('sums what real processes record into one store at the same time', async () => {
    const dir = tempDir();
    // Two of them fold the open hour after every flush, racing the others' appends.
    const run = (address: string, flushes: number, keys: string[], rollUpEveryMs = 0) =>
      new Promise<string>((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', recorderScript, dir, String(flushes), String(rollUpEveryMs), address, ...keys], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        child.stdout.on('data', (d: Buffer) => (out += d));
        child.stderr.on('data', (d: Buffer) => (err += d));
        // 'close': once its output is all read ('exit' can come before the last of it).
        child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(err))));
      });
    const outs = await Promise.all([run('10.1', 150, ['k1', 'k2'], 1), run('10.2', 120, ['k1']), run('10.3', 90, ['k2', 'k3'], 1)]);
    expect(outs).toEqual(['done\n', 'done\n', 'done\n']);
    const usage = new UsageAggregates(dir, { rollUpEveryMs: 0 });
    expect(usesOf(await usage.usageSince(Date.now() - H))).toEqual({ k1: 270, k2: 240, k3: 90 });
    const last = (await usage.lastUsedOf(['k1'])).get('k1')!;
    expect(last.lastUsedFrom).toHaveLength(5);
    expect(new Set(last.lastUsedFrom.map((a) => a.address)).size).toBe(5);
  });
});
