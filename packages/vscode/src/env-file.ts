// Putting a new token into a .env file as NAME=token: appended, or replacing
// the line that already sets NAME (rotating a key keeps one line per name).
// A new .env is created readable by its owner only.

import { constants } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A variable name suggested by a key's description: "CI deploy" becomes CI_DEPLOY_API_KEY. */
export function envNameFor(description: string): string {
  const words = description
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9]+/g, ' ')
    .trim()
    .split(' ')
    .filter(Boolean)
    .slice(0, 4)
    .map((w) => w.toUpperCase());
  const base = words.join('_');
  const name = base === '' || /^\d/.test(base) ? `KEYWARD_${base}`.replace(/_$/, '') : base;
  return /API_KEY$|TOKEN$/.test(name) ? name : `${name}_API_KEY`;
}

export function checkEnvName(name: string): string | undefined {
  return ENV_NAME.test(name) ? undefined : 'Use letters, digits and _ (not starting with a digit).';
}

/** The line index that sets NAME (optionally after `export `), or -1. */
export function findEnvLine(text: string, name: string): number {
  const lines = text.split(/\r?\n/);
  return lines.findIndex((l) => new RegExp(`^\\s*(?:export\\s+)?${name}\\s*=`).test(l));
}

/** The file text with NAME=value set: the existing line replaced, or a line appended. */
export function setEnvValue(text: string, name: string, value: string): string {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const lines = text === '' ? [] : text.split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const at = findEnvLine(text, name);
  const line = `${name}=${value}`;
  if (at >= 0) lines[at] = /^\s*export\s/.test(lines[at]) ? `export ${line}` : line;
  else lines.push(line);
  return lines.join(eol) + eol;
}

export async function readEnvFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw e;
  }
}

/**
 * Sets NAME=value in the file; true when the name was there already (replaced). Never through a symbolic link
 * (token-links.ts): one put there since it was checked fails the write (ELOOP).
 */
export async function writeEnvValue(path: string, name: string, value: string): Promise<boolean> {
  const before = await readEnvFile(path);
  const replaced = findEnvLine(before, name) >= 0;
  const flag = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW;
  await writeFile(path, setEnvValue(before, name, value), { mode: 0o600, flag });
  return replaced;
}
