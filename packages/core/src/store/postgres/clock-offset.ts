// How far this server's clock is from the database's. Each server decides
// expiry by its own clock (a key is refused once its expiry has passed on
// the clock of the server asked), and stamps the keys and events it makes
// with it; so servers whose clocks disagree disagree about which keys have
// expired — one whose clock is behind accepts a key past its expiry by as
// much. The database's clock is the one reference every server shares: a
// server asks it the time and notes when it asked and when it heard, as NTP
// does. The database read its clock between the two, so this server's clock
// at that moment was within half the round trip of their midpoint; the
// offset is that midpoint less the database's time, and half the round trip
// is its error. Of several readings the one with the shortest round trip is
// the surest (an answer that waited behind notifications or a busy loop only
// widens its own error) — unless the clock was set between them (a virtual
// machine resumed, NTP stepped it): a reading that cannot agree with the
// surest one (their ranges apart) is of the clock as it is now, and the
// readings before it are forgotten.

import type { ClockOffsetReading } from '../boundary.js';
import type { Sql } from './sql.js';

/** The database's clock as it received the statement (epoch ms, to the microsecond). */
export const DATABASE_CLOCK = 'SELECT (extract(epoch FROM statement_timestamp()) * 1000)::float8 AS at';

/** Readings kept: the best of these is the answer (at the change feed's pace, about half a minute of them). */
const KEPT = 10;

/** A reading from this process's clock at the question (`sent`) and the answer (`heard`), and the database's (`at`). */
export function readingOf(sent: number, heard: number, at: number): ClockOffsetReading {
  return { offsetMs: (sent + heard) / 2 - at, errorMs: (heard - sent) / 2 };
}

/** Asks the database its clock once, on `sql` (the pool or one connection). */
export async function readClock(sql: Pick<Sql, 'query'>, now: () => number = Date.now): Promise<ClockOffsetReading> {
  const sent = now();
  const { rows } = await sql.query<{ at: number }>(DATABASE_CLOCK);
  return readingOf(sent, now(), rows[0].at);
}

/** The recent readings, and the surest of them. */
export class ClockOffset {
  private readonly readings: ClockOffsetReading[] = [];

  add(r: ClockOffsetReading): void {
    if (!Number.isFinite(r.offsetMs) || !(r.errorMs >= 0)) return;
    const best = this.best;
    if (best && Math.abs(r.offsetMs - best.offsetMs) > r.errorMs + best.errorMs) this.readings.length = 0;
    this.readings.push(r);
    if (this.readings.length > KEPT) this.readings.shift();
  }

  /** The reading with the least error of those kept; undefined before the first. */
  get best(): ClockOffsetReading | undefined {
    let best: ClockOffsetReading | undefined;
    for (const r of this.readings) if (!best || r.errorMs < best.errorMs) best = r;
    return best;
  }
}
