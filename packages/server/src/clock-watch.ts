// Tells the operator when this server's clock is over a second from its
// database's (clockOffsetWarning: each server decides expiry by its own
// clock), and when it is near again (clockBackText) — as the server starts,
// and whenever it changes after: a virtual machine resumed from a pause, or
// an NTP daemon that stopped, sets a clock off without a restart. The store
// reads the clock every few seconds while its change feed listens
// (clock-offset.ts); this looks at the surest recent reading as often.

import { type ClockOffsetReading, type Engine, clockBackText, clockOffsetWarning } from '@keyward/core';

/** How often the readings are looked at: as often as the change feed takes them. */
const LOOK_MS = 3000;

/** Starts watching; the function returned stops it. */
export function watchClock(engine: Engine, tell: (line: string) => void): () => void {
  let off = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const look = (r: ClockOffsetReading | undefined) => {
    if (stopped || !r) return;
    const said = off ? clockBackText(r) : clockOffsetWarning(r);
    if (said === undefined) return;
    off = !off;
    tell(said);
  };
  const watch = () => {
    if (stopped) return;
    timer = setInterval(() => look(engine.gauges().store.clock), LOOK_MS);
    timer.unref();
  };
  engine.clockOffset().then(
    (r) => {
      // A store with no clock of its own (a JSON store, on this machine): nothing to watch.
      if (r === undefined) return;
      look(r);
      watch();
    },
    // A database still away: its change feed reads the clock once it answers.
    watch,
  );
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
