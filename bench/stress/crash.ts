// The crash loop: again and again, a process writing to the store is killed
// with SIGKILL at a random moment — an engine process (crash-writer.ts), or
// every other time a `keyward serve` in the middle of HTTP creates, renames
// and deletes. After each kill: the store parses and opens; every write
// acknowledged before the kill is there (an operation in flight at the kill
// may or may not have landed: either is right); every key of earlier rounds
// is exactly as it was; each acknowledged change has its event; and the next
// writer gets the lock the dead one left behind.
import { type ChildProcess, fork } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { type ApiKey, createEngine, createJsonFileStore } from '@keyward/core';
import { type StoreView, viewStore } from './store-view.js';
import { bundle } from './bundle.js';
import { call } from './http-client.js';
import { Tally, seeded } from './ledger.js';
import { eachLine } from './lines.js';
import { startServe } from './serve.js';
import { keyFor, stressStore } from './setup.js';

export interface CrashFigures {
  iterations: number;
  engineKills: number;
  serverKills: number;
  acknowledgedWrites: number;
  inFlightAtKill: number;
  tornEventLines: number;
  leftoverTempFiles: number;
  invariantsChecked: number;
  failures: number;
}

/** `try|ack <op> <id|-> <description|->`, one line per step, in order, for one actor. */
type Journal = string[];

interface Expected {
  state: 'active' | 'revoked' | 'deleted';
  description: string;
  /** What the one operation in flight at the kill may have done. */
  maybe?: { op: string; description: string };
}

/** What one actor's journal says must be in the store. */
function expectationsOf(journal: Journal): { keys: Map<string, Expected>; acked: number; inFlight: number } {
  const keys = new Map<string, Expected>();
  let acked = 0;
  let pending: string[] | undefined;
  for (const line of journal) {
    const [kind, op, id, description] = line.split(' ');
    if (kind === 'try') {
      pending = [op, id, description];
      continue;
    }
    if (kind !== 'ack') continue;
    pending = undefined;
    acked++;
    if (op === 'create') keys.set(id, { state: 'active', description });
    else {
      const k = keys.get(id)!;
      if (op === 'rename') k.description = description;
      if (op === 'revoke') k.state = 'revoked';
      if (op === 'delete') k.state = 'deleted';
    }
  }
  if (pending && pending[0] !== 'create') {
    const k = keys.get(pending[1]);
    if (k) k.maybe = { op: pending[0], description: pending[2] };
  }
  return { keys, acked, inFlight: pending ? 1 : 0 };
}

function checkKey(tally: Tally, id: string, e: Expected, k: ApiKey | undefined): void {
  const m = e.maybe;
  if (e.state === 'deleted') {
    tally.check(k === undefined, () => `acknowledged delete of ${id} lost: the key is back`);
    return;
  }
  if (!k) {
    tally.check(m?.op === 'delete', () => `acknowledged key ${id} is missing`);
    return;
  }
  tally.check(k.description === e.description || (m?.op === 'rename' && k.description === m.description), () => `key ${id} is "${k.description}", acknowledged "${e.description}"`);
  tally.check(!!k.revokedAt === (e.state === 'revoked') || (m?.op === 'revoke' && !!k.revokedAt), () => `key ${id}: revoked ${!!k.revokedAt}, acknowledged ${e.state}`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs an engine writer until a random moment after its first acknowledged write, then SIGKILL. */
async function killEngineWriter(script: string, path: string, user: string, seed: number, rand: () => number, tally: Tally): Promise<Journal> {
  const journal: Journal = [];
  const child: ChildProcess = fork(script, [path, user, String(seed)], { execArgv: [], stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d));
  let firstAck!: () => void;
  const acked = new Promise<void>((r) => (firstAck = r));
  eachLine(child.stdout!, (line) => {
    if (line.startsWith('try ') || line.startsWith('ack ')) journal.push(line);
    if (line.startsWith('ack ')) firstAck();
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  // A writer that cannot get going within a minute is stuck (on the dead one's lock, say).
  const started = await Promise.race([acked.then(() => true), exited.then(() => false), sleep(60_000).then(() => false)]);
  tally.check(started, () => `writer ${user} never acknowledged a write: ${err.slice(0, 300)}`);
  await sleep(Math.floor(rand() * 300));
  child.kill('SIGKILL');
  await exited;
  return journal;
}

/** Starts `keyward serve`, has three clients create, rename and delete over HTTP, and kills the server at a random moment. */
async function killServer(path: string, user: string, rand: () => number, tally: Tally): Promise<Journal[]> {
  const token = (await keyFor(path, user, `${user}-token`)).token;
  const server = await startServe(path);
  let dead = false;
  const client = async (c: number): Promise<Journal> => {
    const journal: Journal = [];
    const mine: string[] = [];
    for (let n = 0; !dead; n++) {
      const description = `${user}-${c}-${n}`;
      const r = rand();
      try {
        if (mine.length < 5 && (r < 0.6 || mine.length === 0)) {
          journal.push(`try create - ${description}`);
          const a = await call(server.url, 'POST', '/api/v1/api-keys', token, { description, expiry: 'P1D' });
          tally.check(a.status === 201, () => `create over HTTP answered ${a.status}`);
          mine.push(a.body.id);
          journal.push(`ack create ${a.body.id} ${description}`);
        } else if (r < 0.8) {
          const id = mine[Math.floor(rand() * mine.length)];
          journal.push(`try rename ${id} ${description}`);
          const a = await call(server.url, 'PATCH', `/api/v1/api-keys/${id}`, token, [{ op: 'replace', path: '/description', value: description }]);
          tally.check(a.status === 204, () => `rename over HTTP answered ${a.status}`);
          journal.push(`ack rename ${id} ${description}`);
        } else {
          const id = mine.splice(Math.floor(rand() * mine.length), 1)[0];
          journal.push(`try delete ${id} -`);
          const a = await call(server.url, 'DELETE', `/api/v1/api-keys/${id}`, token);
          tally.check(a.status === 204, () => `delete over HTTP answered ${a.status}`);
          journal.push(`ack delete ${id} -`);
        }
      } catch {
        break; // the server is gone: the operation in flight stays unacknowledged
      }
    }
    return journal;
  };
  const clients = [0, 1, 2].map(client);
  await sleep(50 + Math.floor(rand() * 450));
  server.child.kill('SIGKILL');
  dead = true;
  if (server.child.exitCode === null && server.child.signalCode === null) await new Promise((r) => server.child.once('exit', r));
  return Promise.all(clients);
}

export async function runCrashLoop(opts: { iterations: number; seed: number; log: (s: string) => void }): Promise<{ figures: CrashFigures; tally: Tally }> {
  const tally = new Tally();
  const rand = seeded(opts.seed + 7);
  const users = Array.from({ length: opts.iterations }, (_, i) => `c${i}`);
  const path = await stressStore({ users, limit: 1000, prefix: 'stress-crash' });
  const script = await bundle('crash-writer');
  const figures: CrashFigures = { iterations: 0, engineKills: 0, serverKills: 0, acknowledgedWrites: 0, inFlightAtKill: 0, tornEventLines: 0, leftoverTempFiles: 0, invariantsChecked: 0, failures: 0 };
  opts.log(`crash loop: ${opts.iterations} kills on ${path}`);

  for (let i = 0; i < opts.iterations; i++) {
    const before = await readStore(path, tally);
    const journals = i % 2 === 0 ? [await killEngineWriter(script, path, users[i], opts.seed + i, rand, tally)] : await killServer(path, users[i], rand, tally);
    if (i % 2 === 0) figures.engineKills++;
    else figures.serverKills++;
    figures.iterations++;

    const after = await readStore(path, tally);
    if (!after || !before) continue;
    // The store opens in a fresh engine, too (not only JSON.parse).
    const engine = createEngine(createJsonFileStore(path), { usageFlushMs: 0 });
    try {
      const page = await engine.as('admin').listKeys({ limit: 1 });
      tally.check(page.total === Object.keys(after.keys).length, () => `the engine sees ${page.total} keys, the file holds ${Object.keys(after.keys).length}`);
    } catch (e) {
      tally.fail(`the store does not open after kill ${i + 1}: ${(e as Error).message}`);
    }
    await engine.close();
    // Keys of earlier rounds are untouched.
    for (const [id, k] of Object.entries(before.keys)) {
      if (k.owner === users[i]) continue;
      tally.check(JSON.stringify(after.keys[id]) === JSON.stringify(k), () => `kill ${i + 1}: key ${id} of an earlier round changed or vanished`);
    }
    const events = keyEvents(after);
    figures.tornEventLines += after.problems.length;
    for (const journal of journals) {
      const { keys, acked, inFlight } = expectationsOf(journal);
      figures.acknowledgedWrites += acked;
      figures.inFlightAtKill += inFlight;
      for (const [id, e] of keys) {
        checkKey(tally, id, e, after.keys[id]);
        tally.check(events.generated.has(id), () => `acknowledged key ${id} has no api-key.generated event`);
        if (e.state === 'deleted') tally.check(events.deleted.has(id), () => `acknowledged delete of ${id} has no event`);
        if (e.state === 'revoked') tally.check(events.revoked.has(id), () => `acknowledged revoke of ${id} has no event`);
      }
    }
  }
  figures.leftoverTempFiles = readdirSync(dirname(path)).filter((f) => f.endsWith('.tmp') || f.endsWith('.acquiring')).length;
  figures.invariantsChecked = tally.checked;
  figures.failures = tally.failures;
  return { figures, tally };
}

/** The store as a fresh process opens it (snapshot + journal, event segments); a failure to open is a failure. */
async function readStore(path: string, tally: Tally): Promise<StoreView | undefined> {
  try {
    return await viewStore(path);
  } catch (e) {
    tally.fail(`the store does not open: ${(e as Error).message}`);
    return undefined;
  }
}

/** The key events of the store, by type. */
function keyEvents(view: StoreView): { generated: Set<string>; deleted: Set<string>; revoked: Set<string> } {
  const out = { generated: new Set<string>(), deleted: new Set<string>(), revoked: new Set<string>() };
  for (const e of view.events) {
    if (!e.keyId) continue;
    if (e.eventType === 'api-key.generated') out.generated.add(e.keyId);
    if (e.eventType === 'api-key.deleted') out.deleted.add(e.keyId);
    if (e.eventType === 'api-key.revoked') out.revoked.add(e.keyId);
  }
  return out;
}
