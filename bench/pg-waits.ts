// What PostgreSQL's busy backends are waiting for, sampled: every few
// milliseconds pg_stat_activity is read, and each backend of the database
// that is running a statement counts once under its wait event (none: on a
// CPU or waiting for one). For probes (bench/mix-probe.ts --waits), not a
// measure: the sampling is a client of its own and takes a little of the
// machine.

import pg from 'pg';

/** Backends running a statement, counted per sample by what the statement is and what it waits for. */
export interface WaitSamples {
  samples: number;
  /** Statement kind → wait → the number of times a backend was seen so. */
  seen: Map<string, Map<string, number>>;
}

const SAMPLE = `SELECT CASE WHEN query LIKE 'CALL %' THEN 'create (CALL)' ELSE 'other' END AS what,
  coalesce(wait_event_type || '/' || wait_event, 'none (on a CPU, or waiting for one)') AS wait
  FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid()`;

/** Samples the backends of `url`'s database every `everyMs` until `until` settles. */
export async function sampleWaits(url: string, until: Promise<unknown>, everyMs = 2): Promise<WaitSamples> {
  const c = new pg.Client(url);
  c.on('error', () => undefined);
  await c.connect();
  const out: WaitSamples = { samples: 0, seen: new Map() };
  let done = false;
  // Settled either way, the sampling stops (a failure is the caller's to report, from `until` itself).
  const stop = () => {
    done = true;
  };
  until.then(stop, stop);
  try {
    while (!done) {
      for (const r of (await c.query<{ what: string; wait: string }>(SAMPLE)).rows) {
        const waits = out.seen.get(r.what) ?? new Map<string, number>();
        waits.set(r.wait, (waits.get(r.wait) ?? 0) + 1);
        out.seen.set(r.what, waits);
      }
      out.samples++;
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  } finally {
    await c.end().catch(() => undefined);
  }
  return out;
}

/** The samples as lines: for each statement kind, the share of its sightings under each wait. */
export function waitLines(w: WaitSamples): string[] {
  const lines = [`  backends running a statement, ${w.samples} samples of pg_stat_activity (share of each statement's sightings):`];
  const total = (waits: Map<string, number>) => [...waits.values()].reduce((a, b) => a + b, 0);
  for (const [what, waits] of [...w.seen].sort((a, b) => total(b[1]) - total(a[1]))) {
    const seen = total(waits);
    lines.push(`    ${what}: seen ${seen} times, ${(seen / w.samples).toFixed(2)} at once on average`);
    for (const [wait, n] of [...waits].sort((a, b) => b[1] - a[1])) lines.push(`      ${((100 * n) / seen).toFixed(1).padStart(5)}%  ${wait}`);
  }
  return lines;
}
