// GET /metrics on `keyward serve --metrics-port N`: what a team running
// several servers watches, in Prometheus' text format (0.0.4) — requests by
// route, method and status, and how long they took; the database pool; the
// change feed whose heartbeat lets this server answer from its caches (a
// revoked key refused everywhere within a second); this server's clock against the
// database's; usage counted and not yet written;
// a JSON store's free disk; the process's CPU, memory and event-loop delay. docs/prometheus-alerts.yml
// alerts on them (test/serve-metrics.pg.test.ts checks it names only these).
//
// On a port of its own, on the API's host: the API's port is often open to
// the world, and these numbers are for operators. Nothing in them comes from
// a request as sent: requests are counted by the route they matched (its
// template, `/api/v1/api-keys/:id`), never by path, token, key or user.

import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { EngineGauges } from '@keyward/core';

// Seconds; a verify answers in well under a millisecond, a create waits for the disk.
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
// Requests that matched no route.
export const UNMATCHED = 'unmatched';
// The event loop's delay is sampled by a timer this often; what the histogram holds is each whole interval, this included.
const LOOP_SAMPLE_MS = 20;
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

interface Series {
  route: string;
  method: string;
  /** By status code. */
  statuses: Map<number, number>;
  /** Requests at or under each bucket's bound, not yet summed (render sums them). */
  buckets: number[];
  sum: number;
  count: number;
}

export class RequestMetrics {
  private readonly series = new Map<string, Series>();
  private readonly started = Date.now() / 1000;
  // Sampled every LOOP_SAMPLE_MS while metrics are on; each scrape reads and resets it.
  private readonly loopDelay = monitorEventLoopDelay({ resolution: LOOP_SAMPLE_MS });

  constructor(
    /** Requests being answered now. */
    private readonly inFlight: () => number,
  ) {
    this.loopDelay.enable();
  }

  /** One answered request: the route it matched (UNMATCHED for none), its method, status and time taken. */
  observe(route: string, method: string, status: number, seconds: number): void {
    const m = METHODS.has(method) ? method : 'other';
    const key = `${m} ${route}`;
    let s = this.series.get(key);
    if (s === undefined) {
      s = { route, method: m, statuses: new Map(), buckets: BUCKETS.map(() => 0), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    s.statuses.set(status, (s.statuses.get(status) ?? 0) + 1);
    const at = BUCKETS.findIndex((b) => seconds <= b);
    if (at >= 0) s.buckets[at]++;
    s.sum += seconds;
    s.count++;
  }

  /** The exposition: these requests, the engine's gauges, the process. */
  text(engine: EngineGauges, now = Date.now()): string {
    const out = new Exposition();
    const series = [...this.series.values()].sort((a, b) => a.route.localeCompare(b.route) || a.method.localeCompare(b.method));

    out.family('keyward_http_requests_total', 'counter', 'Requests answered, by the route they matched, method and status.');
    for (const s of series) for (const [status, n] of [...s.statuses].sort((a, b) => a[0] - b[0])) out.sample('keyward_http_requests_total', { route: s.route, method: s.method, status: String(status) }, n);
    out.family('keyward_http_request_duration_seconds', 'histogram', 'Time from a request arriving to its answer going out.');
    for (const s of series) {
      let below = 0;
      BUCKETS.forEach((b, i) => {
        below += s.buckets[i];
        out.sample('keyward_http_request_duration_seconds_bucket', { route: s.route, method: s.method, le: String(b) }, below);
      });
      out.sample('keyward_http_request_duration_seconds_bucket', { route: s.route, method: s.method, le: '+Inf' }, s.count);
      out.sample('keyward_http_request_duration_seconds_sum', { route: s.route, method: s.method }, s.sum);
      out.sample('keyward_http_request_duration_seconds_count', { route: s.route, method: s.method }, s.count);
    }
    out.gauge('keyward_http_requests_in_flight', 'Requests being answered now.', this.inFlight());

    const { connections, feed } = engine.store;
    if (connections) {
      out.family('keyward_db_connections', 'gauge', "This server's connections to the database (its pool; the change feed has one more).");
      out.sample('keyward_db_connections', { state: 'open' }, connections.open);
      out.sample('keyward_db_connections', { state: 'idle' }, connections.idle);
      out.gauge('keyward_db_connection_waits', 'Requests waiting for a database connection now.', connections.waiting);
    }
    if (feed) {
      out.gauge('keyward_change_feed_up', "1 while this server hears every other server's change (its LISTEN connection is up and answering); 0: it answers nothing from its caches, asking the database every time.", feed.live ? 1 : 0);
      // Unset until the feed first confirmed anything.
      if (feed.confirmedAt > 0) out.gauge('keyward_change_feed_confirmed_age_seconds', 'Since this server last knew it had heard every change (a heartbeat every 0.3 s); past 0.7 s its caches are not used.', Math.max(0, now - feed.confirmedAt) / 1000);
      out.counter('keyward_changes_heard_total', "Other servers' changes this server has heard.", feed.heard);
    }

    if (engine.store.clock) {
      const { offsetMs, errorMs } = engine.store.clock;
      out.gauge('keyward_clock_offset_seconds', "This server's clock less the database's (positive: ahead), read every few seconds: each server decides expiry by its own clock.", offsetMs / 1000);
      out.gauge('keyward_clock_offset_error_seconds', "How far keyward_clock_offset_seconds may be off: half the reading's round trip.", errorMs / 1000);
    }
    if (engine.store.disk) {
      const { freeBytes, totalBytes } = engine.store.disk;
      out.gauge('keyward_store_disk_free_bytes', "Free space on the store's file system (a JSON store): a full disk refuses every change.", freeBytes);
      out.gauge('keyward_store_disk_size_bytes', "The size of the store's file system (a JSON store).", totalBytes);
    }

    const { usage } = engine;
    out.gauge('keyward_usage_pending_uses', 'Uses counted by this server and not yet written to the store.', usage.pendingUses);
    out.family('keyward_usage_flushes_total', 'counter', "Writes of this server's counted uses to the store, by result.");
    out.sample('keyward_usage_flushes_total', { result: 'ok' }, usage.flushes);
    out.sample('keyward_usage_flushes_total', { result: 'failed' }, usage.failedFlushes);
    if (usage.lastFlushAt > 0) out.gauge('keyward_usage_last_flush_timestamp_seconds', 'When the last write of counted uses succeeded.', usage.lastFlushAt / 1000);

    const cpu = process.cpuUsage();
    out.counter('process_cpu_seconds_total', 'CPU time of this process, user and system.', (cpu.user + cpu.system) / 1e6);
    out.gauge('process_resident_memory_bytes', 'Resident memory of this process.', process.memoryUsage.rss());
    out.gauge('process_start_time_seconds', 'When this process started (its metrics), since the epoch.', this.started);
    out.gauge('nodejs_heap_used_bytes', "V8's heap in use.", process.memoryUsage().heapUsed);
    // Named as prom-client names them, so dashboards made for other Node.js services read them.
    const delay = this.loopDelay;
    const seconds = (ns: number) => (delay.count > 0 && Number.isFinite(ns) ? Math.max(0, ns / 1e6 - LOOP_SAMPLE_MS) / 1000 : 0);
    const late = 'how late the event loop ran timers since the previous scrape (every request waits on it)';
    out.gauge('nodejs_eventloop_lag_p50_seconds', `The median of ${late}.`, seconds(delay.percentile(50)));
    out.gauge('nodejs_eventloop_lag_p99_seconds', `The 99th percentile of ${late}.`, seconds(delay.percentile(99)));
    out.gauge('nodejs_eventloop_lag_max_seconds', `The most of ${late}.`, seconds(delay.max));
    delay.reset();
    return out.text();
  }

  close(): void {
    this.loopDelay.disable();
  }
}

/** Prometheus' text format: a HELP and TYPE line per family, then its samples. */
class Exposition {
  private readonly lines: string[] = [];

  family(name: string, type: 'counter' | 'gauge' | 'histogram', help: string): void {
    this.lines.push(`# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${name} ${type}`);
  }

  sample(name: string, labels: Record<string, string>, value: number): void {
    const pairs = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
    this.lines.push(`${name}${pairs.length > 0 ? `{${pairs.join(',')}}` : ''} ${valueText(value)}`);
  }

  gauge(name: string, help: string, value: number): void {
    this.family(name, 'gauge', help);
    this.sample(name, {}, value);
  }

  counter(name: string, help: string, value: number): void {
    this.family(name, 'counter', help);
    this.sample(name, {}, value);
  }

  text(): string {
    return this.lines.join('\n') + '\n';
  }
}

function valueText(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  // Sums of milliseconds read as seconds carry binary noise (0.0015300000000000001): twelve digits say it all.
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(12)));
}
