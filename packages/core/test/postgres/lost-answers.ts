// Faults between a Keyward process and its PostgreSQL, made on the real
// connection in this process (the engine's tests and the server's share them):
// a write cut off once it went out whole, its answers lost (after the first,
// or all of them once it committed), and the looks at whether its backend is
// gone refused as by a database that cannot be reached.

import net from 'node:net';
import pg from 'pg';

/** `run`'s outcome, with every look at whether a backend is gone (pg_stat_activity, asked on a pool) refused as by an unreachable database. */
export async function refusingTheFateLooks<T>(run: () => Promise<T>): Promise<PromiseSettledResult<T>> {
  const pool = pg.Pool.prototype as unknown as { query: (...a: unknown[]) => unknown };
  const query = pool.query;
  pool.query = function (this: unknown, ...a: unknown[]) {
    if (String(a[0]).includes('pg_stat_activity')) return Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    return query.apply(this, a);
  };
  try {
    return (await Promise.allSettled([run()]))[0];
  } finally {
    pool.query = query;
  }
}

type Write = (this: net.Socket, ...a: unknown[]) => unknown;

/**
 * Hands the first socket write of this process that carries `marker` (a
 * statement's text or parameters) to `hook` as it goes out, with the write
 * itself to call (its arguments: the chunks, then the callback); other
 * writes (a heartbeat, a new connection's start) pass. Returns the undoing.
 */
function onTheWriteOf(marker: string, hook: (socket: net.Socket, write: (a: unknown[]) => unknown, a: unknown[]) => unknown): () => void {
  const socket = net.Socket.prototype as unknown as Record<'_write' | '_writev', Write>;
  const [write, writev] = [socket._write, socket._writev];
  const restore = () => {
    socket._write = write;
    socket._writev = writev;
  };
  const carries = (a: unknown[]) => (Array.isArray(a[0]) ? (a[0] as { chunk: unknown }[]).map((c) => c.chunk) : [a[0]]).some((c) => String(c).includes(marker));
  const watching = (original: Write): Write =>
    function (this: net.Socket, ...a: unknown[]) {
      if (!carries(a)) return original.apply(this, a);
      restore();
      return hook(this, (args) => original.apply(this, args), a);
    };
  socket._write = watching(write);
  socket._writev = watching(writev);
  return restore;
}

/** The answers the database sends on `s` go to `answers` instead of the driver. */
function answersOf(s: net.Socket, answers: (emit: (data: Buffer) => void, data: Buffer) => void): void {
  const emit = s.emit as (this: net.Socket, event: string | symbol, ...args: unknown[]) => boolean;
  s.emit = function (this: net.Socket, event: string | symbol, ...args: unknown[]) {
    if (event !== 'data') return emit.apply(this, [event, ...args]);
    answers((data) => emit.call(this, 'data', data), args[0] as Buffer);
    return true;
  } as typeof s.emit;
}

/**
 * Runs `run` with the first socket write of this process that carries
 * `marker` (the create's one statement, with its description among its
 * parameters) going out whole and its connection cut right after: the
 * backend still runs what it received, and its answer is lost. `cut`
 * settles once it went out.
 */
export function cuttingTheWriteOf<T>(marker: string, run: () => Promise<T>): { answer: Promise<T>; cut: Promise<void> } {
  const { answer, sent } = cutLaterTheWriteOf(marker, run);
  // Cut in the microtasks right after the write went out: before any answer can be read.
  return { answer, cut: sent.then((c) => c.cut()) };
}

/**
 * Runs `run`, handing over the connection whose write carries `marker` once
 * that write went out (`cut` cuts it then, whenever the test chooses: a
 * connection lost while its statements wait at a lock).
 */
export function cutLaterTheWriteOf<T>(marker: string, run: () => Promise<T>): { answer: Promise<T>; sent: Promise<{ cut(): void }> } {
  let wasSent!: (c: { cut(): void }) => void;
  const sent = new Promise<{ cut(): void }>((resolve) => (wasSent = resolve));
  const restore = onTheWriteOf(marker, (socket, write, a) => {
    const done = a[a.length - 1] as (e?: Error | null) => void;
    return write([
      ...a.slice(0, -1),
      (e?: Error | null) => {
        done(e);
        wasSent({ cut: () => socket.destroy() });
      },
    ]);
  });
  return { answer: run().finally(restore), sent };
}

/**
 * Runs `run` with the connection whose write carries `marker` (the create's
 * one statement and its NOTIFY) handed only its first answer (everything up
 * to the first ReadyForQuery), then cut: the statement is answered, the
 * NOTIFY's answer lost.
 */
export function losingTheAnswersAfterTheFirst<T>(marker: string, run: () => Promise<T>): Promise<T> {
  const restore = onTheWriteOf(marker, (socket, write, a) => {
    let seen = Buffer.alloc(0);
    let handed = false;
    answersOf(socket, (emit, data) => {
      if (handed) return;
      seen = Buffer.concat([seen, data]);
      // Backend messages: a type byte, then a length counting itself.
      for (let at = 0; at + 5 <= seen.length; at += 1 + seen.readInt32BE(at + 1)) {
        if (seen[at] !== 0x5a /* Z */ || at + 1 + seen.readInt32BE(at + 1) > seen.length) continue;
        handed = true;
        emit(seen.subarray(0, at + 1 + seen.readInt32BE(at + 1)));
        socket.destroy();
        return;
      }
    });
    return write(a);
  });
  return run().finally(restore);
}

/**
 * Runs `run` with every answer to the connection whose write carries `marker`
 * kept from the driver (the backend's sends still succeed, as to a client
 * cut off by the network), and that connection cut once `committed` says
 * the backend committed what it received: the answer to a COMMIT lost, the
 * change made.
 */
export function losingTheAnswersOnceCommitted<T>(marker: string, committed: () => Promise<boolean>, run: () => Promise<T>): Promise<T> {
  const cutOnceCommitted = async (s: net.Socket) => {
    while (!(await committed())) await new Promise((r) => setTimeout(r, 20));
    s.destroy();
  };
  const restore = onTheWriteOf(marker, (socket, write, a) => {
    answersOf(socket, () => undefined);
    void cutOnceCommitted(socket);
    return write(a);
  });
  return run().finally(restore);
}
