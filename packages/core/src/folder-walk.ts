// The files of a folder outside any git work tree, as git would see them:
// the .gitignore files in it honoured (each one applies below its own
// folder), .git never entered. Symbolic links are not followed: a link to a
// folder could lead out of the tree, or around in a loop. `keyward scan` and
// the VS Code extension's Rotate (which bundles core) both look for tokens
// in the files it lists.

import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import ignore, { type Ignore } from 'ignore';

interface Rules {
  /** The folder the .gitignore sits in, relative to the walk's root ('' for the root). */
  base: string;
  rules: Ignore;
}

function rulesIn(dir: string, base: string): Rules | undefined {
  let text: string;
  try {
    text = readFileSync(join(dir, '.gitignore'), 'utf8');
  } catch {
    return undefined;
  }
  return { base, rules: ignore().add(text) };
}

function ignored(rel: string, isDir: boolean, stack: Rules[]): boolean {
  for (const r of stack) {
    const sub = r.base === '' ? rel : rel.slice(r.base.length + 1);
    if (r.rules.ignores(isDir ? sub + '/' : sub)) return true;
  }
  return false;
}

export interface FolderWalk {
  /** Folders never entered besides .git, ignored or not (Rotate skips node_modules). */
  skipFolders?: readonly string[];
  /** Files kept although a .gitignore ignores them (Rotate's .env files: where tokens are meant to live). */
  keepIgnored?: (path: string) => boolean;
}

/** Paths of the files under `root`, relative to it with / separators, in a stable order. */
export function walkFolder(root: string, opts: FolderWalk = {}): string[] {
  const skip = new Set(['.git', ...(opts.skipFolders ?? [])]);
  const files: string[] = [];
  const visit = (rel: string, stack: Rules[]) => {
    const dir = rel === '' ? root : join(root, rel);
    const own = rulesIn(dir, rel);
    const rules = own ? [...stack, own] : stack;
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // unreadable folder: nothing in it can be scanned
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const path = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) {
        if (!skip.has(e.name) && !ignored(path, true, rules)) visit(path, rules);
      } else if (e.isFile() && (!ignored(path, false, rules) || opts.keepIgnored?.(path))) {
        files.push(path);
      }
    }
  };
  visit('', []);
  return files;
}
