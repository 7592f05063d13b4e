// The statements this process sends to PostgreSQL through node-postgres,
// seen on their way out — to count what a create sent or what the database
// refused, or to change one (a NOTIFY the database then refuses) or answer
// it in its place (a read that fails) — while the real driver and server do
// everything else.

import pg from 'pg';

/** A statement as node-postgres' query was called with it: its config (or text), then its values or callback. */
export type Sent = unknown[];

/** A create sent whole: one CALL of its procedure (expectations.ts PUT_COUNTED_KEYS_AND_ANNOUNCE), its parameters in `values`. */
export function createSentWhole(a: Sent): { text: string; values?: unknown[] } | undefined {
  const config = a[0] as { text?: unknown; values?: unknown[] } | undefined;
  return typeof config?.text === 'string' && config.text.startsWith('CALL keyward.put_counted_keys_and_announce') ? (config as { text: string; values?: unknown[] }) : undefined;
}

/**
 * Runs `run` with every statement a pg client of this process sends handed
 * first to `see`, with `send`, which sends it as its arguments are then and
 * gives node-postgres' answer: `see` answers in its place, so it may change
 * the arguments before sending, watch the answer, or not send at all.
 */
export async function seeingTheStatements<T>(see: (a: Sent, send: () => unknown) => unknown, run: () => Promise<T>): Promise<T> {
  const query = pg.Client.prototype.query as (...a: unknown[]) => unknown;
  pg.Client.prototype.query = function (this: pg.Client, ...a: unknown[]) {
    return see(a, () => query.apply(this, a));
  } as typeof pg.Client.prototype.query;
  try {
    return await run();
  } finally {
    pg.Client.prototype.query = query as typeof pg.Client.prototype.query;
  }
}
