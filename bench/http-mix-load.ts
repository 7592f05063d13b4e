// The mixed HTTP load and its durable floor, shared by bench/http-mix.ts (one
// `keyward serve` on the JSON store) and bench/postgres.ts (two on one
// PostgreSQL). Of every 20 requests: 7 authenticated reads of
// GET /api/v1/users/me, 5 of GET /api/v1/api-keys?limit=20, 7 verifies
// (POST /api/v1/api-keys/verify) and 1 create (POST /api/v1/api-keys).
// The floor is bench/http-mix-bare.mjs: node:http doing only the unavoidable
// part of each request (with `durable`, a create also appends and fsyncs).
import { type ChildProcess, fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

// The part of autocannon's API used here, request bodies included.
export interface Request {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}
interface Options {
  url: string;
  connections: number;
  duration: number;
  requests: Request[];
  /** Requests per second over all connections; unlimited when absent. */
  overallRate?: number;
}
export interface Result {
  requests: { total: number };
  latency: { p99: number };
  duration: number;
  non2xx: number;
  errors: number;
  timeouts: number;
}
export const autocannon = createRequire(import.meta.url)('autocannon') as (opts: Options) => Promise<Result>;

export function mix(tokens: readonly string[]): Request[] {
  const requests: Request[] = [];
  tokens.forEach((token, i) => {
    const auth = { authorization: `Bearer ${token}` };
    const json = { ...auth, 'content-type': 'application/json' };
    const other = tokens[(i * 7 + 3) % tokens.length];
    for (let r = 0; r < 20; r++) {
      const slot = (r * 9 + i) % 20; // spread the kinds through the sequence
      if (slot < 7) requests.push({ method: 'GET', path: '/api/v1/users/me', headers: auth });
      else if (slot < 12) requests.push({ method: 'GET', path: '/api/v1/api-keys?limit=20', headers: auth });
      else if (slot < 19) requests.push({ method: 'POST', path: '/api/v1/api-keys/verify', headers: json, body: JSON.stringify({ token: other }) });
      else requests.push({ method: 'POST', path: '/api/v1/api-keys', headers: json, body: JSON.stringify({ description: `bench mix ${i}`, expiry: 'P1D' }) });
    }
  });
  return requests;
}

/** The floor server on the fixture store at `storePath`, in a process of its own. */
export async function startBare(storePath: string, durable: boolean): Promise<{ child: ChildProcess; url: string }> {
  const child = fork(fileURLToPath(new URL('./http-mix-bare.mjs', import.meta.url)), [storePath, durable ? 'durable' : 'memory'], { execArgv: [], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m) => resolve((m as { port: number }).port));
    child.once('exit', (code) => reject(new Error(`bare server exited with ${code}`)));
  });
  return { child, url: `http://127.0.0.1:${port}` };
}

/** Throws unless every answer of the run was a 2xx. */
export function allAnswered(name: string, r: Result): Result {
  if (r.non2xx > 0 || r.errors > 0 || r.timeouts > 0) throw new Error(`${name}: ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts`);
  return r;
}
