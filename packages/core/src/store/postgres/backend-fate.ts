// Whether the backend of a connection that was lost is gone: it can commit
// nothing more, so a look at what it wrote tells whether it committed
// (store.ts fateOf).
//
// A backend is named by its pid, which is unique only on its own server, and
// only while that server runs: after a failover (the URL's address now
// reaching a promoted standby) or a restart, the same pid may be another
// Keyward server's live backend, which must not be ended for a lost one. So a
// pool connection also notes which server it reached — that server's
// postmaster start time (KeywardClient) — and a backend of another server, or
// of the same server before a restart, is gone from where the look is made:
// nothing of it commits there any more.

// How this store's connections name themselves to the database (pg_stat_activity), so only one of its own is ended.
export const APPLICATION = 'keyward';
// How long a backend whose connection was lost may take to be gone: 40 looks, 50 ms apart.
const FATE_LOOKS = 40;
const FATE_LOOK_MS = 50;

/** The backend a connection talks to: its pid, and the server it runs on (its postmaster start time, as text) where known. */
export interface Backend {
  pid: number;
  server?: string;
}

/** What each look is asked on (the store's pool, asked again past connections closed while idle). */
export type AskPool = (text: string, values: unknown[]) => Promise<{ rows: { alive: boolean }[] }>;

/**
 * The statement that names the backend a connection reached, and its server
 * (KeywardClient runs it as a pool connection starts). The pid is asked, not
 * taken from the session's start (BackendKeyData): a pooler in front of the
 * database (PgBouncer) hands its clients a made-up one, and a look for that
 * pid finds nothing — "gone" at once, while the backend really sending the
 * change may still commit it.
 */
export const WHICH_BACKEND = 'SELECT pg_postmaster_start_time()::text AS started, pg_backend_pid() AS pid';

// Alive only where the pid runs on the server the connection reached; ended at the first look that finds it there.
const LOOK = `WITH here AS (SELECT $4::text IS NULL OR $4::text = pg_postmaster_start_time()::text AS same)
SELECT (SELECT same FROM here) AND EXISTS (SELECT FROM pg_stat_activity WHERE pid = $1) AS alive,
       (SELECT pg_terminate_backend(a.pid) FROM pg_stat_activity a, here WHERE here.same AND a.pid = $1 AND a.application_name = $2 AND $3) AS ended`;

/**
 * Whether a backend whose connection was lost is seen gone within
 * FATE_LOOKS looks. One that said FATAL is gone within moments. One cut off
 * by the network lives on, perhaps waiting at the owner's lock, and could
 * commit long after its change was answered: it is ended here (a backend of
 * this application only, on the server it ran on), so a change answered
 * "not written" is not made later. Not seen gone only while the database
 * cannot be asked (a look it does not answer learns nothing: the next asks
 * again, within the same 2 s), or will not end it.
 */
export async function seenGone(ask: AskPool, backend: Backend | undefined): Promise<boolean> {
  if (!backend) return false;
  const until = performance.now() + FATE_LOOKS * FATE_LOOK_MS;
  let found = false;
  for (let look = 0; look < FATE_LOOKS; look++) {
    if (look > 0) await new Promise((r) => setTimeout(r, FATE_LOOK_MS));
    // pg_terminate_backend only asks: later looks wait until it is gone.
    const alive = await ask(LOOK, [backend.pid, APPLICATION, !found, backend.server ?? null]).then(
      (r) => r.rows[0].alive,
      () => undefined,
    );
    if (alive === false) return true;
    if (alive) found = true;
    else if (performance.now() > until) return false;
  }
  return false;
}
