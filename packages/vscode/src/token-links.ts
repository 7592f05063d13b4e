// A token is never written through a symbolic link, by Generate (into .env)
// or by Rotate (over the old token): a link can lead out of the workspace, to
// a file shared with others or read by other programs, and a fresh secret
// written there without a word is a surprise — a cloned repository could
// even ship a .env link to a file of its choosing. So a link is not written
// (nor searched, as readIfHoldsKey opens files without following links), the
// person is told which link and where it leads, and the token goes to the
// clipboard instead. The one rule both flows ask.

import { lstatSync, readlinkSync } from 'node:fs';

/** Why the token is not written to `path` (shown as `shown`) when it is a symbolic link; undefined when it is not one. */
export function throughLinkRefusal(path: string, shown: string): string | undefined {
  try {
    if (!lstatSync(path).isSymbolicLink()) return undefined;
  } catch {
    return undefined; // not there: a .env is created, not a link followed
  }
  let target: string;
  try {
    target = readlinkSync(path);
  } catch {
    target = 'somewhere it no longer says';
  }
  return `${shown} is a symbolic link to ${target}, and Keyward never writes a token through a link (it may lead out of the workspace, to a file others read)`;
}
