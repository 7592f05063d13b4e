// Retention: events and usage older than the tenant's `eventsRetention` are
// removed in the background — soon after an engine starts and then hourly —
// never on a request's path. Short-lived commands close before the first
// sweep; servers, the terminal UI and the editor sweep.

import { type KeywardEvent, type Tenant, settingsOf } from './domain.js';
import type { Clock } from './clock.js';
import { parseDuration } from './duration.js';
import type { Store, UsageCount } from './store/boundary.js';

const MINUTE = 60_000;

/** Where the tenant's retention cuts at `now`: what is older goes; undefined when nothing does. */
export function retentionCut(tenant: Tenant, now: number): number | undefined {
  const retention = parseDuration(settingsOf(tenant).eventsRetention);
  return retention && retention.ms > 0 ? now - retention.ms : undefined;
}

/**
 * Of usage counts and their events, what a sweep at `cut` leaves: events
 * from `cut` on, the minutes from the one holding it on (PostgreSQL's grain;
 * the JSON store removes whole days, a coarser cut of the same rule), and
 * of older minutes only the last use and addresses they carry, facts about
 * the key that retention keeps (a count with no use: they are kept, and
 * noting them twice changes nothing). A flush sent again once retention
 * removed its day is trimmed so: what the store could have found it by (its
 * name, its events) went with that day, and whether its uses were counted
 * no longer matters — they are past what the tenant keeps (SPEC: usage
 * totals go with the events).
 */
export function keptAfter<E extends Pick<KeywardEvent, 'eventTime'>>(cut: number | undefined, counts: readonly UsageCount[], events: readonly E[]): { counts: UsageCount[]; events: E[] } {
  if (cut === undefined) return { counts: [...counts], events: [...events] };
  const fromMinute = Math.floor(cut / MINUTE);
  return {
    counts: counts.map((c) => (c.minute >= fromMinute || c.uses === 0 ? c : { ...c, uses: 0 })),
    events: events.filter((e) => Date.parse(e.eventTime) >= cut),
  };
}

export interface RetentionOptions {
  /** Between sweeps; 0 turns sweeping off. */
  everyMs: number;
  /** Before the first sweep. */
  firstAfterMs: number;
}

export class RetentionSweep {
  private timer?: NodeJS.Timeout;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly opts: RetentionOptions,
  ) {
    if (opts.everyMs > 0) this.schedule(opts.firstAfterMs);
  }

  /** Removes what is older than the retention now; resolves when done. */
  sweep(): Promise<void> {
    this.running = this.running.catch(() => undefined).then(async () => {
      const tenant = await this.store.tenant();
      const cut = tenant && retentionCut(tenant, this.clock.now());
      if (cut !== undefined) await this.store.removeBefore(cut);
    });
    return this.running;
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running.catch(() => undefined);
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => {
      // A store that cannot sweep now (busy, a full disk) is swept next time.
      void this.sweep()
        .catch(() => undefined)
        .finally(() => {
          if (this.timer) this.schedule(this.opts.everyMs);
        });
    }, ms);
    this.timer.unref();
  }
}
