// A big store file read and parsed on a worker thread, with only its outline
// sent back: each top-level value as it is, an object or array in it as an
// empty one. A process that only checks a snapshot another process's
// compaction wrote (is it a store file, at which position: checkSnapshot)
// has no use for its state, and parsing it held the event loop for the whole
// JSON.parse and the garbage collection after it — at 100k keys, 34 MB, a
// second and a half of a second server's verifies stalled on a busy machine.
// The handoff is a path in and a few fields out; what the outline must be
// is still judged by snapshot.ts, here as for a file parsed in place.

import { Worker } from 'node:worker_threads';

/** What the worker found: the outline, or why there is none. */
export type ParsedApart =
  | { outline: unknown }
  /** The file is not JSON: JSON.parse's message. */
  | { invalid: string }
  /** Reading it failed (ENOENT, EIO, ELOOP: it is a symbolic link). */
  | { fault: { code?: string; message: string } };

// Run as a CommonJS script (eval): the package is bundled, so the worker cannot name a module file of its own.
const SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { readFileSync, constants } = require('node:fs');
let out;
try {
  const text = readFileSync(workerData.path, { encoding: 'utf8', flag: constants.O_RDONLY | constants.O_NOFOLLOW });
  try {
    const doc = JSON.parse(text);
    const empty = (v) => (v !== null && typeof v === 'object' ? (Array.isArray(v) ? [] : {}) : v);
    out = { outline: doc !== null && typeof doc === 'object' && !Array.isArray(doc) ? Object.fromEntries(Object.entries(doc).map(([k, v]) => [k, empty(v)])) : empty(doc) };
  } catch (e) {
    out = { invalid: e.message };
  }
} catch (e) {
  out = { fault: { code: e.code, message: e.message } };
}
parentPort.postMessage(out);
`;

/**
 * Reads and parses `path` on a worker thread; rejects if the worker itself
 * failed (the caller then parses in place), or once `stop` was signalled
 * (its store closed: the worker is terminated). Settles only once the
 * worker has exited, so nothing of it is left running (nor keeps the
 * process alive) after a caller that awaited it.
 */
export function parseApart(path: string, stop: AbortSignal): Promise<ParsedApart> {
  return new Promise((resolve, reject) => {
    if (stop.aborted) return reject(stop.reason);
    const worker = new Worker(SOURCE, { eval: true, workerData: { path } });
    let answer: ParsedApart | undefined;
    let failed: unknown;
    const terminate = () => void worker.terminate();
    stop.addEventListener('abort', terminate, { once: true });
    worker.once('message', (m: ParsedApart) => (answer = m));
    worker.once('error', (e) => (failed = e));
    worker.once('exit', (code) => {
      stop.removeEventListener('abort', terminate);
      if (stop.aborted) reject(stop.reason);
      else if (answer !== undefined) resolve(answer);
      else reject(failed ?? new Error(`the worker parsing ${path} exited with ${code} before answering`));
    });
  });
}
