// The files of a folder outside any git work tree, honouring the .gitignore
// files in it as git would (each one applies below its own folder). Symbolic
// links are not followed: a link to a folder could lead out of the tree, or
// around in a loop.

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

/** Paths of the files under `root`, relative to it, in a stable order. */
export function walkFolder(root: string): string[] {
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
        if (e.name !== '.git' && !ignored(path, true, rules)) visit(path, rules);
      } else if (e.isFile() && !ignored(path, false, rules)) {
        files.push(path);
      }
    }
  };
  visit('', []);
  return files;
}
