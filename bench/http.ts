// Authenticated requests per second through `keyward serve`, against the
// floor measured in the same run with the same load generator: a bare
// node:http server that hashes the bearer and does a Map lookup. Keyward also
// routes, parses and checks the token, counts the use, resolves the actor,
// answers GET /api/v1/users/me from the store and writes a request log line —
// and must stay within 0.6× of the floor. Each server runs in its own process
// and the rounds alternate, so drift in machine load hits both alike.
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { build } from 'esbuild';
import { buildStore } from './fixtures.js';
import { interleavedAsync, quick, report } from './lib.js';

const ROUND_SECONDS = quick ? 2 : 3;
const ROUNDS = quick ? 3 : 9;
const CONNECTIONS = 16;
const TOKENS = 50;

const built = buildStore(1000);
const tokens = built.tokens.slice(0, TOKENS);

// Both servers run as esbuild bundles, as `keyward serve` ships (scripts/build.mjs), not through tsx.
const target = join(mkdtempSync(join(tmpdir(), 'keyward-bench-http-')), 'http-target.mjs');
await build({
  entryPoints: [fileURLToPath(new URL('./http-target.ts', import.meta.url))],
  outfile: target,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
});

async function start(mode: 'keyward' | 'bare'): Promise<{ child: ChildProcess; url: string }> {
  // stdout to /dev/null: Keyward's request log is written, as in production, but nobody reads it here.
  const child = fork(target, [mode, built.path], { execArgv: [], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m) => resolve((m as { port: number }).port));
    child.once('exit', (code) => reject(new Error(`${mode} server exited with ${code}`)));
  });
  return { child, url: `http://127.0.0.1:${port}` };
}

async function load(url: string, seconds: number): Promise<number> {
  const r = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: seconds,
    requests: tokens.map((t) => ({ method: 'GET', path: '/api/v1/users/me', headers: { authorization: `Bearer ${t}` } })),
  });
  if (r.non2xx > 0 || r.errors > 0 || r.timeouts > 0) throw new Error(`${url}: ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts`);
  return r.requests.total / r.duration;
}

const keyward = await start('keyward');
const bare = await start('bare');
try {
  await load(keyward.url, 1); // warm up both (JIT, first reads of the store)
  await load(bare.url, 1);
  const r = await interleavedAsync(ROUNDS, { keyward: () => load(keyward.url, ROUND_SECONDS), bare: () => load(bare.url, ROUND_SECONDS) });
  report({
    measure: 'HTTP authenticated requests/s (GET /api/v1/users/me, 1k keys)',
    value: Math.round(r.keyward),
    baseline: Math.round(r.bare),
    unit: 'req/s',
    ratio: r.keyward / r.bare,
    goal: '>= 0.6',
    against: 'bare node:http: SHA-256 of the bearer + Map lookup, same autocannon load',
  });
} finally {
  for (const s of [keyward, bare]) s.child.disconnect();
}
