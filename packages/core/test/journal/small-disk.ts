// A real full filesystem for the fault tests: a tmpfs of a few pages mounted
// in a temporary directory (the tests run as root, as CI does). Where mount
// is refused the caller skips with the reason, never passes silently; in CI
// the refusal is the test's failure (needed-here.ts).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, rmSync, writeSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IN_CI } from '../../../../test/support/needed-here.js';

export function mountSmallDisk(kib: number): { dir: string; unmount: () => void } | { refused: string } {
  const dir = mkdtempSync(join(tmpdir(), 'keyward-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${kib}k,mode=0700`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    const refused = `mount -t tmpfs was refused (${(e as Error).message.split('\n')[0]}); the full-disk test needs root`;
    if (IN_CI) throw new Error(`${refused}, as CI has (.ci/run)`);
    return { refused };
  }
  return {
    dir,
    unmount: () => {
      execFileSync('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Fills the disk to the last byte, keeping `slack` one-page files that can be removed to give room back. */
export function fillDisk(dir: string, slack: number): string[] {
  const spare = Array.from({ length: slack }, (_, i) => {
    const p = join(dir, `slack-${i}`);
    writeFileSync(p, Buffer.alloc(4096, 1));
    return p;
  });
  const fd = openSync(join(dir, 'filler'), 'w');
  const chunk = Buffer.alloc(4096, 2);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  }
  // Then the last partial bytes, so not even a page's remainder is free.
  try {
    for (;;) writeSync(fd, chunk, 0, 1);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  } finally {
    closeSync(fd);
  }
  return spare;
}
