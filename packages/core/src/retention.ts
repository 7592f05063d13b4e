// Retention: events and usage older than the tenant's `eventsRetention` are
// removed in the background — soon after an engine starts and then hourly —
// never on a request's path. Short-lived commands close before the first
// sweep; servers, the terminal UI and the editor sweep.

import { settingsOf } from './domain.js';
import type { Clock } from './clock.js';
import { parseDuration } from './duration.js';
import type { Store } from './store/boundary.js';

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
      if (!tenant) return;
      const retention = parseDuration(settingsOf(tenant).eventsRetention);
      if (!retention || retention.ms <= 0) return;
      await this.store.removeBefore(this.clock.now() - retention.ms);
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
