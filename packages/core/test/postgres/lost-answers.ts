// Faults between a Keyward process and its PostgreSQL, made on the real
// connection in this process (the engine's tests and the server's share them):
// a create's write cut off once it went out whole, and the looks at whether
// its backend is gone refused as by a database that cannot be reached.

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

/**
 * Runs `run` with the first socket write of this process that carries
 * `marker` (the create's one statement, with its description among its
 * parameters) going out whole and its connection cut right after: the
 * backend still runs what it received, and its answer is lost. Other writes
 * (a heartbeat, a new connection's start) pass. `cut` settles once it went out.
 */
export function cuttingTheWriteOf<T>(marker: string, run: () => Promise<T>): { answer: Promise<T>; cut: Promise<void> } {
  const socket = net.Socket.prototype as unknown as Record<'_write' | '_writev', (...a: unknown[]) => unknown>;
  const [write, writev] = [socket._write, socket._writev];
  let wasCut!: () => void;
  const cut = new Promise<void>((resolve) => (wasCut = resolve));
  const carries = (a: unknown[]) => {
    const chunks = Array.isArray(a[0]) ? (a[0] as { chunk: unknown }[]).map((c) => c.chunk) : [a[0]];
    return chunks.some((c) => String(c).includes(marker));
  };
  const restore = () => {
    socket._write = write;
    socket._writev = writev;
  };
  const cutAfter = (original: (...a: unknown[]) => unknown) =>
    function (this: net.Socket, ...a: unknown[]) {
      if (!carries(a)) return original.apply(this, a);
      restore();
      const done = a[a.length - 1] as (e?: Error | null) => void;
      return original.apply(this, [
        ...a.slice(0, -1),
        (e?: Error | null) => {
          done(e);
          this.destroy();
          wasCut();
        },
      ]);
    };
  socket._write = cutAfter(write);
  socket._writev = cutAfter(writev);
  return { answer: run().finally(restore), cut };
}

/**
 * Runs `run` with every answer to the connection whose write carries `marker`
 * kept from the driver (the backend's sends still succeed, as to a client
 * cut off by the network), and that connection cut once `committed` says
 * the backend committed what it received: the answer to a COMMIT lost, the
 * change made.
 */
export function losingTheAnswersOnceCommitted<T>(marker: string, committed: () => Promise<boolean>, run: () => Promise<T>): Promise<T> {
  const socket = net.Socket.prototype as unknown as Record<'_write' | '_writev', (...a: unknown[]) => unknown>;
  const [write, writev] = [socket._write, socket._writev];
  const restore = () => {
    socket._write = write;
    socket._writev = writev;
  };
  const carries = (a: unknown[]) => (Array.isArray(a[0]) ? (a[0] as { chunk: unknown }[]).map((c) => c.chunk) : [a[0]]).some((c) => String(c).includes(marker));
  const cutOnceCommitted = async (s: net.Socket) => {
    while (!(await committed())) await new Promise((r) => setTimeout(r, 20));
    s.destroy();
  };
  const watching = (original: (...a: unknown[]) => unknown) =>
    function (this: net.Socket, ...a: unknown[]) {
      if (carries(a)) {
        restore();
        const emit = this.emit as (this: net.Socket, event: string | symbol, ...args: unknown[]) => boolean;
        this.emit = function (this: net.Socket, event: string | symbol, ...args: unknown[]) {
          return event === 'data' ? true : emit.apply(this, [event, ...args]);
        } as typeof this.emit;
        void cutOnceCommitted(this);
      }
      return original.apply(this, a);
    };
  socket._write = watching(write);
  socket._writev = watching(writev);
  return run().finally(restore);
}
