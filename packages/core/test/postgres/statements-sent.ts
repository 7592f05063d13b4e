// The statements this process sends to PostgreSQL through node-postgres,
// seen on their way out — to count what a create sent or what the database
// refused, or to change one (a NOTIFY the database then refuses) or answer
// it in its place (a read that fails) — while the real driver and server do
// everything else.

import pg from 'pg';

/** A statement as node-postgres' query was called with it: its config (or text), then its values or callback. */
export type Sent = unknown[];

/** A statement's text, whether it was sent as a string or in a config. */
export function statementText(a: Sent): string | undefined {
  const config = a[0] as { text?: unknown } | string | undefined;
  if (typeof config === 'string') return config;
  return typeof config?.text === 'string' ? config.text : undefined;
}

/** A create sent whole: one CALL of its procedure (expectations.ts PUT_COUNTED_KEYS_AND_ANNOUNCE), its parameters in `values`. */
export function createSentWhole(a: Sent): { text: string; values?: unknown[] } | undefined {
  const config = a[0] as { text?: unknown; values?: unknown[] } | undefined;
  return typeof config?.text === 'string' && config.text.startsWith('CALL keyward.put_counted_keys_and_announce') ? (config as { text: string; values?: unknown[] }) : undefined;
}

/**
 * What a create sent whole was decided on for its first owner: the active
 * count, and the mark seen with it (null where none was: the check counts
 * the owner's keys again) — the procedure's parameters counted and
 * counted_changes (migration 9).
 */
export function decidedOn(create: { values?: unknown[] }): { counted: unknown; mark: unknown } {
  return { counted: (create.values?.[7] as unknown[])[0], mark: (create.values?.[8] as unknown[])[0] };
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
