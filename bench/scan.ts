// `keyward scan` against ripgrep on the same generated tree (10,000 files,
// 100 tokens, 1,000 near-misses), ripgrep single-threaded (-j1) searching the
// same token pattern. Keyward's figure is the scan itself (walk, read, find by
// prefix, checksum, line and column), in-process; ripgrep runs as a process.
// Skipped, saying so, where ripgrep is not installed.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scanPaths } from '../packages/cli/src/scan/sources.js';
import { writeTokenTree } from '../test/support/token-tree.js';
import { interleavedAsync, quick, report } from './lib.js';

const PATTERN = 'kw_[0-9a-f]{24}_[a-z2-7]{32}[0-9a-f]{8}';

const probe = spawnSync('rg', ['--version']);
if (probe.error || probe.status !== 0) {
  process.stdout.write('scan bench skipped: ripgrep (rg) is not installed (apt-get install -y ripgrep)\n');
  process.exit(0);
}

const root = mkdtempSync(join(tmpdir(), 'keyward-bench-scan-'));
try {
  const files = quick ? 3000 : 10_000;
  writeTokenTree(root, { files, plantCount: 100, nearMisses: 1000 });
  const du = spawnSync('du', ['-sb', root], { encoding: 'utf8' });
  const megabytes = Number(du.stdout.split('\t')[0]) / 1e6;
  const time = (fn: () => unknown) => async () => {
    const t = process.hrtime.bigint();
    await fn();
    return megabytes / (Number(process.hrtime.bigint() - t) / 1e9);
  };
  let found = 0;
  const keyward = time(async () => {
    found = (await scanPaths([root])).files.reduce((n, f) => n + f.tokens.length, 0);
  });
  let rgLines = 0;
  const ripgrep = time(() => {
    const r = spawnSync('rg', ['-j1', '--no-config', '-o', '-n', '--column', PATTERN, root], { encoding: 'utf8', maxBuffer: 1 << 26 });
    rgLines = r.stdout.split('\n').length - 1;
  });
  await keyward();
  await ripgrep(); // warm the page cache for both
  const r = await interleavedAsync(quick ? 3 : 7, { keyward, ripgrep });
  if (found !== 100) throw new Error(`keyward found ${found} tokens, not 100`);
  if (rgLines !== 1100) throw new Error(`ripgrep matched ${rgLines} times, not 1100 (tokens and near-misses)`);
  report({
    measure: 'scan throughput vs ripgrep -j1 (same tree, same prefix pattern)',
    value: Math.round(r.keyward * 10) / 10,
    baseline: Math.round(r.ripgrep * 10) / 10,
    unit: 'MB/s',
    ratio: r.keyward / r.ripgrep,
    goal: '>= 0.3',
    against: `rg -j1 -o -n --column '${PATTERN}' over ${files} files (${megabytes.toFixed(1)} MB), as a process`,
  });
} finally {
  rmSync(root, { recursive: true, force: true });
}
