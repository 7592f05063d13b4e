// `keyward serve --metrics-port` on PostgreSQL: what an operator of several
// servers watches — each server's database connections, its change feed
// (up, how stale its caches may be, other servers' changes heard), and its
// usage counted and not yet written — read as a scraper would while two real
// servers share one real database, which is then stopped and started again.
// While it is down, a 503 carries the request's id (X-Request-Id: the load
// balancer's, or one made) in its header and message, and the server's log
// line with the reason carries it too.
// This file runs a PostgreSQL of its own, since it stops it.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PostgresServer, startPostgres } from './support/postgres-server.js';
import { createTestDatabase } from './support/postgres.js';
import { bootstrap } from './support/flow.js';
import { repoRoot } from './support/keyward.js';
import { metricsUrlOf, startServe } from './support/serve.js';
import { call } from './support/http.js';

let pg: PostgresServer;
let tokens: { alice: string; bob: string };
let servers: { url: string; metrics: string; stdout: () => string }[];

/** One scrape's samples, by name and labels as written. */
async function scrape(url: string): Promise<Map<string, number>> {
  const text = await (await fetch(url)).text();
  return new Map(
    text
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('#'))
      .map((l) => [l.slice(0, l.lastIndexOf(' ')), Number(l.slice(l.lastIndexOf(' ') + 1))]),
  );
}

/** Scrapes `url` until `ok` holds (or `ms` pass), and returns the last scrape. */
async function until(url: string, ok: (m: Map<string, number>) => boolean, ms = 10_000): Promise<Map<string, number>> {
  const at = Date.now();
  let m = await scrape(url);
  while (!ok(m) && Date.now() - at < ms) {
    await new Promise((r) => setTimeout(r, 100));
    m = await scrape(url);
  }
  return m;
}

beforeAll(async () => {
  pg = await startPostgres();
  const url = (await createTestDatabase(pg.url)).url;
  tokens = bootstrap(url);
  const started = await Promise.all([0, 1].map(() => startServe(url, ['--metrics-port', '0', '--db-connections', '4'])));
  servers = await Promise.all(started.map(async (s) => ({ url: s.url, metrics: await metricsUrlOf(s), stdout: s.stdout })));
});
afterAll(async () => {
  await pg?.destroy();
});

describe('keyward serve --metrics-port on PostgreSQL', () => {
  it("reports the pool, the change feed, other servers' changes heard, and usage the database has not taken yet; a 503 names its request", async () => {
    const [a, b] = servers;
    // B caches bob's key, and listens from then on.
    expect((await call(`${b.url}/api/v1/users/me`, tokens.bob)).status).toBe(200);
    let seen = await until(b.metrics, (m) => m.get('keyward_change_feed_up') === 1);
    expect(seen.get('keyward_change_feed_up')).toBe(1);
    const heard = seen.get('keyward_changes_heard_total')!;
    // A change made through A is heard by B.
    expect((await call(`${a.url}/api/v1/api-keys`, tokens.alice, 'POST', { description: 'heard elsewhere' })).status).toBe(201);
    seen = await until(b.metrics, (m) => m.get('keyward_changes_heard_total')! > heard);
    expect(seen.get('keyward_changes_heard_total')).toBeGreaterThan(heard);
    expect(seen.get('keyward_change_feed_confirmed_age_seconds')).toBeLessThan(1.5);
    // Its pool: within --db-connections.
    expect(seen.get('keyward_db_connections{state="open"}')).toBeGreaterThanOrEqual(1);
    expect(seen.get('keyward_db_connections{state="open"}')).toBeLessThanOrEqual(4);
    expect(seen.get('keyward_db_connection_waits')).toBe(0);
    // The alerting rules shipped for operators name only metrics a server on PostgreSQL exposes.
    const exposed = new Set([...seen.keys()].map((sample) => sample.replace(/\{.*$/, '')));
    const rules = readFileSync(join(repoRoot, 'docs/prometheus-alerts.yml'), 'utf8');
    // keyward_store_disk_*: a JSON store's (test/serve-metrics.test.ts).
    const named = [...rules.matchAll(/^\s+expr: (.*)$/gm)].flatMap((m) => m[1].match(/\b(?:keyward|nodejs|process)_[a-z0-9_]+/g) ?? []).filter((n) => !n.startsWith('keyward_store_disk_'));
    expect(named.length).toBeGreaterThan(5);
    for (const name of named) expect(exposed, name).toContain(name);

    // Right after one of B's flushes (every 5 s), uses it has not written yet; then the database stops.
    const flushes = seen.get('keyward_usage_flushes_total{result="ok"}')!;
    await until(b.metrics, (m) => m.get('keyward_usage_flushes_total{result="ok"}')! > flushes);
    for (let i = 0; i < 5; i++) expect((await call(`${b.url}/api/v1/users/me`, tokens.bob)).status).toBe(200);
    await pg.stop();
    // The feed is down (and says so) and the next flush is refused: the uses stay counted here, not lost.
    seen = await until(b.metrics, (m) => m.get('keyward_change_feed_up') === 0 && m.get('keyward_usage_flushes_total{result="failed"}')! >= 1, 15_000);
    expect(seen.get('keyward_change_feed_up')).toBe(0);
    expect(seen.get('keyward_usage_flushes_total{result="failed"}')).toBeGreaterThanOrEqual(1);
    expect(seen.get('keyward_usage_pending_uses')).toBeGreaterThanOrEqual(5);
    expect(seen.get('keyward_change_feed_confirmed_age_seconds')).toBeGreaterThan(1);

    // Meanwhile a request is answered 503 with an id to find its reason in the server's log by: its own
    // (a load balancer's X-Request-Id), or one made for it.
    const asked = await fetch(`${b.url}/api/v1/users/me`, { headers: { authorization: `Bearer ${tokens.bob}`, 'x-request-id': 'lb-4711' } });
    const made = await fetch(`${b.url}/api/v1/users/me`, { headers: { authorization: `Bearer ${tokens.bob}` } });
    expect([asked.status, made.status]).toEqual([503, 503]);
    expect(asked.headers.get('x-request-id')).toBe('lb-4711');
    const madeId = made.headers.get('x-request-id')!;
    expect(madeId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(((await asked.json()) as { errors: { detail: string }[] }).errors[0].detail).toContain('(request lb-4711)');
    expect(((await made.json()) as { errors: { detail: string }[] }).errors[0].detail).toContain(`(request ${madeId})`);
    // The log is written a turn after the answer: looked for until both lines are there (2 s at most).
    const logged = () => b.stdout().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { requestId?: string; status?: number; error?: string });
    for (let i = 0; i < 40 && logged().filter((e) => e.requestId === 'lb-4711' || e.requestId === madeId).length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    for (const id of ['lb-4711', madeId]) expect(logged().find((e) => e.requestId === id)).toMatchObject({ status: 503, error: expect.any(String) });

    // Back: the feed listens again, and the next flush writes what was kept.
    await pg.start();
    seen = await until(b.metrics, (m) => m.get('keyward_change_feed_up') === 1 && m.get('keyward_usage_pending_uses') === 0, 20_000);
    expect([seen.get('keyward_change_feed_up'), seen.get('keyward_usage_pending_uses')]).toEqual([1, 0]);
    expect(seen.get('keyward_change_feed_confirmed_age_seconds')).toBeLessThan(1.5);
    // Written: A, which counted none of bob's uses itself, reads them from the database.
    const usage = (await call(`${a.url}/api/v1/api-keys/usage?since=1h`, tokens.alice)).body as { data: { description: string; uses: number }[] };
    expect(usage.data.find((u) => u.description === 'bob bootstrap')?.uses).toBeGreaterThanOrEqual(6);
  }, 90_000);
});
