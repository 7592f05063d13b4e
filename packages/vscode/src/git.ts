// Whether a file is tracked by git: an active token there is a secret in
// source, which every clone and every push carries along.

import { execFile } from 'node:child_process';
import { basename, dirname } from 'node:path';

/** True when git tracks the file; false when it does not, or git is not there. */
export function isTrackedByGit(filePath: string): Promise<boolean> {
  return new Promise((resolve) => {
    execFile('git', ['ls-files', '--error-unmatch', '--', basename(filePath)], { cwd: dirname(filePath), timeout: 10_000 }, (err) => resolve(!err));
  });
}
