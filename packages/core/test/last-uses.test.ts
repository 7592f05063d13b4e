// "Last used" as the embedded store keeps it in memory (store/json/last-uses.ts):
// each answer must hold what every process has flushed, never a use this
// process once read and has since been superseded.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { UsageCount } from '../src/store/boundary.js';
import { LAST_USES_POLL_MS } from '../src/store/json/last-uses.js';
import { UsageAggregates } from '../src/store/json/usage-aggregates.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const recorderScript = fileURLToPath(new URL('./fixtures/usage-recorder.ts', import.meta.url));
const T0 = Date.parse('2026-11-20T10:00:00.000Z');
const MIN = 60_000;
const H = 3_600_000;

function tempDir(): string {
  return join(mkdtempSync(join(tmpdir(), 'keyward-last-uses-')), 'store.usage');
}

function use(keyId: string, at: number, address: string): UsageCount {
  return { keyId, minute: Math.floor(at / MIN), uses: 1, lastUsed: at, addresses: [{ address, lastSeen: at }] };
}

/** One flush of one use of each key by a real process of its own (lastUsed: its Date.now()). */
function recordInChild(dir: string, address: string, ...keys: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', recorderScript, dir, '1', '0', address, ...keys], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d));
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(err))));
  });
}

const lastOf = async (usage: UsageAggregates, keyId: string) => (await usage.lastUsedOf([keyId])).get(keyId)!;

describe('last uses kept in memory (JSON store)', () => {
  it("answers another process's later flush, not the use it read before", async () => {
    const dir = tempDir();
    const reader = new UsageAggregates(dir, { rollUpEveryMs: 0 });
    try {
      await recordInChild(dir, '10.1', 'k1');
      const first = await lastOf(reader, 'k1');
      expect(first.lastUsedFrom.map((a) => a.address)).toEqual(['10.1.0']);
      await new Promise((r) => setTimeout(r, 5));
      await recordInChild(dir, '10.2', 'k1', 'k2');
      // Within the poll interval (a watch usually wakes at once).
      await expect.poll(async () => (await lastOf(reader, 'k1')).lastUsed, { timeout: LAST_USES_POLL_MS + 1000, interval: 20 }).toBeGreaterThan(first.lastUsed!);
      expect((await lastOf(reader, 'k1')).lastUsedFrom.map((a) => a.address)).toEqual(['10.2.0', '10.1.0']);
      expect((await lastOf(reader, 'k2')).lastUsed).toBeDefined();
    } finally {
      await reader.close();
    }
  });

  it("answers this process's own flush at once", async () => {
    const dir = tempDir();
    const usage = new UsageAggregates(dir, { now: () => T0, rollUpEveryMs: 0 });
    try {
      // Asked before the folder exists, so no watch can tell this process about its own first write.
      expect((await lastOf(usage, 'k1')).lastUsed).toBeUndefined();
      await usage.record([use('k1', T0 - 5 * MIN, '10.0.0.1')]);
      expect((await lastOf(usage, 'k1')).lastUsed).toBe(T0 - 5 * MIN);
      await usage.record([use('k1', T0 - MIN, '10.0.0.2')]);
      const last = await lastOf(usage, 'k1');
      expect(last.lastUsed).toBe(T0 - MIN);
      expect(last.lastUsedFrom.map((a) => a.address)).toEqual(['10.0.0.2', '10.0.0.1']);
    } finally {
      await usage.close();
    }
  });

  it('finds the uses of a raw file a roll-up folded and removed after this process last read it', async () => {
    const dir = tempDir();
    let now = T0;
    const writer = new UsageAggregates(dir, { now: () => now, rollUpEveryMs: 0 });
    const reader = new UsageAggregates(dir, { now: () => now, rollUpEveryMs: 0 });
    try {
      await writer.record([use('k1', T0 - 30_000, 'a')]);
      expect((await lastOf(reader, 'k1')).lastUsed).toBe(T0 - 30_000); // reader has read the hour's raw file this far
      await writer.record([use('k1', T0 - 10_000, 'b')]);
      now = T0 + 2 * H; // the hour closed: the roll-up folds it all into last-used.json and removes it
      expect(await writer.rollUp()).toBe(true);
      expect(existsSync(join(dir, '2026-11-20T10.jsonl'))).toBe(false);
      await expect.poll(async () => (await lastOf(reader, 'k1')).lastUsed, { timeout: LAST_USES_POLL_MS + 1000, interval: 20 }).toBe(T0 - 10_000);
      expect((await lastOf(reader, 'k1')).lastUsedFrom.map((a) => a.address)).toEqual(['b', 'a']);
    } finally {
      await writer.close();
      await reader.close();
    }
  });
});
