// Tests that need something this machine may lack (pgbouncer, OpenSSH, a
// tmpfs mounted as root) are skipped where it is missing, their titles
// saying what to install. Not in CI (CI=true): .ci/run installs all of it
// and runs as root, and a run that skipped such a test would pass on a test
// it never ran — there the test runs, and fails on what is missing.

export const IN_CI = process.env.CI === 'true';

/** Whether a test that needs what is `missing` is skipped here. */
export function skippedWhereMissing(missing: boolean): boolean {
  return missing && !IN_CI;
}
