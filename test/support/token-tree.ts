// A generated source tree with Keyward tokens planted in it, and near-misses
// (the right prefix and shape, a wrong checksum) that a scanner must not
// report. Shared by the scan test and the scan benchmark.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { newKeyId, newToken } from '@keyward/core';

export interface Planted {
  path: string;
  line: number;
  column: number;
  keyId: string;
}

export interface TreeOptions {
  files: number;
  /** Tokens to plant; random well-formed ones are made up to `plantCount`. */
  tokens?: string[];
  plantCount: number;
  nearMisses: number;
  /** Lines of filler per file (about 40 bytes each). */
  linesPerFile?: number;
  seed?: number;
}

/** A token with one checksum character changed: right prefix and shape, wrong checksum. */
export function nearMiss(rand: () => number): string {
  const t = newToken(newKeyId());
  const i = t.length - 1 - Math.floor(rand() * 8);
  const c = t[i] === 'a' ? 'b' : 'a';
  return t.slice(0, i) + c + t.slice(i + 1);
}

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

const FILLER = [
  'const config = loadConfig(process.env.NODE_ENV);',
  'export function handler(req, res) { return res.json({ ok: true }); }',
  '// kw_ is the prefix of Keyward tokens; this line only mentions it',
  'if (user.roles.includes("Developer")) allowed = true;',
  'const url = `https://example.invalid/api/v1/api-keys?limit=${n}`;',
  '    return items.filter((x) => x.active).map((x) => x.id);',
  'KEYWARD_TOKEN=kw_not_a_token_at_all',
  '',
];

/** Writes the tree under `root`; returns where each token was planted (1-based line and column). */
export function writeTokenTree(root: string, opts: TreeOptions): Planted[] {
  const rand = rng(opts.seed ?? 42);
  const linesPerFile = opts.linesPerFile ?? 50;
  const tokens = [...(opts.tokens ?? [])];
  while (tokens.length < opts.plantCount) tokens.push(newToken(newKeyId()));
  // Which file and line each planted token and near-miss goes to.
  const extra = new Map<number, { line: number; text: string; token?: string }[]>();
  const place = (text: string, token?: string) => {
    const file = Math.floor(rand() * opts.files);
    const line = Math.floor(rand() * linesPerFile);
    const list = extra.get(file) ?? [];
    if (list.some((e) => e.line === line)) return false;
    list.push({ line, text, token });
    extra.set(file, list);
    return true;
  };
  for (const t of tokens) while (!place(`const apiKey = "${t}"; // planted`, t));
  for (let i = 0; i < opts.nearMisses; i++) while (!place(`token: ${nearMiss(rand)}`));
  const planted: Planted[] = [];
  for (let f = 0; f < opts.files; f++) {
    const dir = `pkg${String(f % 100).padStart(2, '0')}`;
    if (f < 100) mkdirSync(join(root, dir), { recursive: true });
    const path = `${dir}/file${f}.js`;
    const lines: string[] = [];
    for (let l = 0; l < linesPerFile; l++) lines.push(FILLER[Math.floor(rand() * FILLER.length)]);
    for (const e of extra.get(f) ?? []) {
      lines[e.line] = e.text;
      if (e.token) planted.push({ path, line: e.line + 1, column: e.text.indexOf(e.token) + 1, keyId: e.token.slice(3, 27) });
    }
    writeFileSync(join(root, path), lines.join('\n') + '\n');
  }
  return planted;
}
