// What every face says when core's filesOfFolder could not have git list a
// folder's files and walked it by its .gitignore files instead (folder-walk.ts
// decides that, and tells the caller through onGitFailed): `keyward scan` says
// it on stderr, VS Code's Rotate in its result. The person should know the
// list was not git's. Both show it made inert (git's words and the folder
// come from outside).

/** A folder in a git work tree whose files git could not list (`why`: git's own words); it was walked instead. */
export interface GitFailed {
  folder: string;
  why: string;
}

export function gitFallbackText(f: GitFailed): string {
  return `git could not list the files of ${f.folder} (${f.why}); they were scanned by their .gitignore files instead, so .git/info/exclude, the global excludes and ignored files git tracks were not counted as git counts them.`;
}
