// The files of a folder as git would commit them: in a git work tree, what
// git tracks or would add (so .gitignore, .git/info/exclude and the global
// excludes count exactly as git counts them); outside one, a walk honouring
// the .gitignore files in it (each one applies below its own folder), .git
// never entered. Inside a work tree where git cannot answer (a damaged index,
// a repository of another owner that git refuses, no git installed), the walk
// too, and the caller is told why: scanning by the .gitignore files, as SPEC
// describes scan, finds more than refusing would, and a person should know
// the list was not git's. Symbolic links are not followed: a link to a folder could
// lead out of the tree, or around in a loop. `keyward scan` and the VS Code
// extension's Rotate (which bundles core) both look for tokens in them.

import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
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
  /** Folders the walk outside git never enters besides .git, ignored or not (Rotate skips node_modules). */
  skipFolders?: readonly string[];
  /** Files kept although a .gitignore ignores them (Rotate's .env files: where tokens are meant to live). */
  keepIgnored?: (path: string) => boolean;
}

export interface FilesOfFolder extends FolderWalk {
  /** The folder is in a git work tree but git could not list its files (git's own words), so they were walked instead. */
  onGitFailed?: (why: string) => void;
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

/** git's answer, or why it failed (no work tree here, no git, a damaged one). */
function git(cwd: string, args: string[]): Promise<{ out: string } | { failed: string }> {
  return new Promise((resolve) => {
    execFile('git', args, { cwd, maxBuffer: 1 << 30, timeout: 60_000 }, (err, stdout, stderr) => {
      if (!err) return resolve({ out: stdout });
      const said = String(stderr).split('\n').find((l) => l.trim() !== '');
      resolve({ failed: (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'git is not installed' : (said?.trim() ?? err.message) });
    });
  });
}

/** A .git (folder, or file of a linked work tree) in `dir` or a folder above it. */
function inWorkTree(dir: string): boolean {
  for (let at = resolve(dir); ; at = dirname(at)) {
    if (existsSync(join(at, '.git'))) return true;
    if (dirname(at) === at) return false;
  }
}

const zList = (out: string) => out.split('\0').filter((p) => p !== '');

/**
 * The files of `dir` as git would commit them, relative to it with /
 * separators: git's list in a work tree, else walkFolder. `keepIgnored` files
 * come too, though not from inside an ignored folder (git names such a folder
 * as one entry, and the walk does not enter it).
 */
export async function filesOfFolder(dir: string, opts: FilesOfFolder = {}): Promise<string[]> {
  const seen = await git(dir, ['ls-files', '-z', '--cached', '--others', '--exclude-standard']);
  if ('failed' in seen) {
    if (inWorkTree(dir)) opts.onGitFailed?.(seen.failed);
    return walkFolder(dir, opts);
  }
  const files = zList(seen.out);
  if (opts.keepIgnored) {
    const ignored = await git(dir, ['ls-files', '-z', '--others', '--ignored', '--exclude-standard', '--directory']);
    if ('out' in ignored) files.push(...zList(ignored.out).filter((p) => !p.endsWith('/') && opts.keepIgnored!(p)));
  }
  return [...new Set(files)];
}
