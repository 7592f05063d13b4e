// The mixed load: engine processes on one JSON store and HTTP clients against
// a `keyward serve` on the same store, creating, listing, renaming, revoking,
// deleting and verifying at random for a fixed time. Then, with everything
// stopped but the server: every acknowledged create is present or was
// deliberately deleted, renames and revocations held, every revoked or
// deleted key is refused (in-process and over HTTP) and every live one is
// not, the store and its event log parse, no 5xx was ever answered, no token
// text reached the store, the events or the log, and the server's memory
// stayed bounded.
import { type ChildProcess, fork } from 'node:child_process';
import { createEngine, createJsonFileStore } from '@keyward/core';
import { type StoreView, storeText, viewStore } from './store-view.js';
import { bundle } from './bundle.js';
import { call, runHttpClient } from './http-client.js';
import { Ledger, type LedgerKey, TOKEN_TEXT, Tally, seeded } from './ledger.js';
import { startServe } from './serve.js';
import { keyFor, stressStore } from './setup.js';

export interface MixedFigures {
  seconds: number;
  processes: number;
  httpClients: number;
  operations: Record<string, number>;
  operationCount: number;
  expectedRefusals: number;
  httpStatuses: Record<string, number>;
  invariantsChecked: number;
  failures: number;
  serverRssMiB: { start: number; peak: number; end: number };
  keysAtEnd: number;
  eventsAtEnd: number;
}

const LIMIT = 8;

interface WorkerDone {
  t: 'done';
  keys: LedgerKey[];
  ops: Record<string, number>;
  expectedRefusals: number;
  tally: { checked: number; failures: number; samples: string[] };
}

function startWorker(script: string, path: string, user: string, seed: number): { child: ChildProcess; ready: Promise<void>; done: Promise<WorkerDone> } {
  const child = fork(script, [path, user, String(seed), String(LIMIT)], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let onReady!: () => void;
  const ready = new Promise<void>((r) => (onReady = r));
  const done = new Promise<WorkerDone>((resolve, reject) => {
    child.on('message', (m: { t: string }) => {
      if (m.t === 'ready') onReady();
      if (m.t === 'done') resolve(m as WorkerDone);
    });
    child.once('exit', (code, signal) => reject(new Error(`engine process ${user} exited with ${code ?? signal} before reporting`)));
  });
  return { child, ready, done };
}

export async function runMixed(opts: { seconds: number; processes: number; clients: number; seed: number; log: (s: string) => void }): Promise<{ figures: MixedFigures; tally: Tally }> {
  const tally = new Tally();
  const workers = Array.from({ length: opts.processes }, (_, i) => `w${i + 1}`);
  const clients = Array.from({ length: opts.clients }, (_, i) => `h${i + 1}`);
  const path = await stressStore({ users: [...workers, ...clients], limit: LIMIT, prefix: 'stress-mixed' });
  const ledger = new Ledger();
  const adminToken = (await keyFor(path, 'admin', 'stress admin')).token;
  const clientTokens: Record<string, string> = {};
  for (const u of clients) {
    const k = await keyFor(path, u, `${u} own`);
    clientTokens[u] = k.token;
    ledger.add({ ...k, owner: u, description: `${u} own`, state: 'active', pinned: true });
  }

  const script = await bundle('engine-worker');
  const server = await startServe(path);
  const rss = { start: server.rssMiB(), peak: 0, end: 0 };
  const sampler = setInterval(() => (rss.peak = Math.max(rss.peak, server.rssMiB())), 250);
  opts.log(`mixed load: ${opts.processes} engine processes + ${opts.clients} HTTP clients for ${opts.seconds} s on ${path}`);

  const running = workers.map((u, i) => startWorker(script, path, u, opts.seed + i));
  await Promise.all(running.map((w) => w.ready));
  const until = Date.now() + opts.seconds * 1000;
  const reports = await Promise.all(
    clients.map((u, i) =>
      runHttpClient({ url: server.url, user: u, token: clientTokens[u], adminToken, limit: LIMIT, until, rand: seeded(opts.seed + 100 + i), ledger, tally }),
    ),
  );
  for (const w of running) w.child.send('stop');
  const done = await Promise.all(running.map((w) => w.done));

  const operations: Record<string, number> = {};
  const httpStatuses: Record<string, number> = {};
  let expectedRefusals = 0;
  for (const d of done) {
    for (const k of d.keys) ledger.add(k);
    for (const [op, n] of Object.entries(d.ops)) operations[op] = (operations[op] ?? 0) + n;
    expectedRefusals += d.expectedRefusals;
    tally.add(d.tally);
  }
  for (const r of reports) {
    for (const [op, n] of Object.entries(r.ops)) operations[op] = (operations[op] ?? 0) + n;
    for (const [s, n] of Object.entries(r.statuses)) httpStatuses[s] = (httpStatuses[s] ?? 0) + n;
    expectedRefusals += r.expectedRefusals;
  }

  // Afterwards: the store parses and holds exactly what was acknowledged. (The
  // server sees another process's change within its peek window, 100 ms.)
  await new Promise((r) => setTimeout(r, 250));
  let doc: StoreView | undefined;
  try {
    doc = await viewStore(path);
  } catch (e) {
    tally.fail(`the store does not open: ${(e as Error).message}`);
  }
  const events = doc?.events ?? [];
  tally.check(doc?.problems.length === 0, () => `the store reported damage: ${doc?.problems.join('; ')}`);
  const eventsOf = new Map<string, Set<string>>();
  for (const e of events) if (e.keyId) (eventsOf.get(e.keyId) ?? eventsOf.set(e.keyId, new Set()).get(e.keyId)!).add(e.eventType);
  const checker = createEngine(createJsonFileStore(path), { usageFlushMs: 0 });
  let finalVerifies = 0;
  for (const k of ledger.keys.values()) {
    const onDisk = doc?.keys[k.id];
    if (k.state === 'deleted') tally.check(onDisk === undefined, () => `deleted key ${k.id} is still in the store`);
    else {
      tally.check(onDisk !== undefined, () => `acknowledged key ${k.id} of ${k.owner} is missing from the store`);
      tally.check(onDisk?.owner === k.owner && onDisk?.description === k.description, () => `key ${k.id}: store has ${onDisk?.owner} / "${onDisk?.description}", acknowledged ${k.owner} / "${k.description}"`);
      tally.check(!!onDisk?.revokedAt === (k.state === 'revoked'), () => `key ${k.id}: revoked in the store ${!!onDisk?.revokedAt}, acknowledged ${k.state}`);
    }
    const types = eventsOf.get(k.id) ?? new Set();
    tally.check(types.has('api-key.generated'), () => `key ${k.id} has no api-key.generated event`);
    if (k.state === 'deleted') tally.check(types.has('api-key.deleted'), () => `deleted key ${k.id} has no api-key.deleted event`);
    if (k.state === 'revoked') tally.check(types.has('api-key.revoked'), () => `revoked key ${k.id} has no api-key.revoked event`);
    // Refused where it must be, in a fresh process's engine and through the server.
    const local = await checker.verify(k.token);
    tally.check(local.valid === (k.state === 'active'), () => `${k.state} key ${k.id} verifies as ${local.valid} in a fresh engine`);
    const remote = await call(server.url, 'POST', '/api/v1/api-keys/verify', adminToken, { token: k.token });
    tally.check(remote.status === 200 && remote.body.valid === (k.state === 'active'), () => `${k.state} key ${k.id} verifies as ${remote.body?.valid} through the server`);
    finalVerifies += 2;
  }
  await checker.close();
  const keysAtEnd = doc ? Object.keys(doc.keys).length : 0;
  tally.check(!TOKEN_TEXT.test(storeText(path)), () => 'token text found in a file of the store');

  clearInterval(sampler);
  rss.end = server.rssMiB();
  rss.peak = Math.max(rss.peak, rss.end);
  // Bounded: a few hundred MiB at most, whatever the load did.
  tally.check(rss.end <= rss.start + 256 && rss.peak < 1024, () => `server RSS grew from ${rss.start} to ${rss.end} MiB (peak ${rss.peak})`);
  const code = await server.stop();
  tally.check(code === 0, () => `keyward serve exited with ${code} on SIGTERM: ${server.stderr()}`);
  tally.check(server.log.serverErrors === 0, () => `the server logged ${server.log.serverErrors} 5xx answers`);
  tally.check(!server.log.tokenText, () => "token text found in the server's request log");
  tally.check(Object.keys(httpStatuses).every((s) => Number(s) < 500), () => `5xx answers: ${JSON.stringify(httpStatuses)}`);
  const after = (await viewStore(path)).events;
  tally.check(after.length >= events.length, () => 'the events shrank');

  const operationCount = Object.values(operations).reduce((a, b) => a + b, 0) + finalVerifies;
  operations['final verify'] = finalVerifies;
  return {
    tally,
    figures: {
      seconds: opts.seconds,
      processes: opts.processes,
      httpClients: opts.clients,
      operations,
      operationCount,
      expectedRefusals,
      httpStatuses,
      invariantsChecked: tally.checked,
      failures: tally.failures,
      serverRssMiB: rss,
      keysAtEnd,
      eventsAtEnd: after.length,
    },
  };
}
