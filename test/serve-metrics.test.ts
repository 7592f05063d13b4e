// `keyward serve --metrics-port N`: GET /metrics on a port of its own, in
// Prometheus' text format — requests counted by the route they matched,
// method and status, with their times; usage counted and written; the
// process. A real server on a JSON store; what it says is read back as a
// scraper would, and holds nothing a request sent (no token, key id, user
// or path as asked).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeOf, keyward, repoRoot, tempDir } from './support/keyward.js';
import { metricsUrlOf, startServe, stopServe } from './support/serve.js';
import { bootstrap } from './support/flow.js';
import { call } from './support/http.js';
import { freePort } from './support/free-port.js';

let store: string;
let tokens: { alice: string; bob: string };
beforeAll(() => {
  store = join(tempDir(), 'keyward.json');
  tokens = bootstrap(store);
});

/** A scrape, parsed: each sample's value by its name and labels as written. */
async function scrape(url: string): Promise<{ text: string; value: (sample: string) => number | undefined; contentType: string | null }> {
  const r = await fetch(url);
  expect(r.status).toBe(200);
  const text = await r.text();
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    // Every sample is NAME{LABELS} VALUE or NAME VALUE.
    const m = /^([a-z_][a-z0-9_]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
    expect(m, line).not.toBeNull();
    values.set(m![1], Number(m![2]));
  }
  return { text, value: (sample) => values.get(sample), contentType: r.headers.get('content-type') };
}

describe('keyward serve --metrics-port', () => {
  let server: Awaited<ReturnType<typeof startServe>>;
  let metrics: string;
  beforeAll(async () => {
    server = await startServe(store, ['--metrics-port', '0']);
    metrics = await metricsUrlOf(server);
  });
  afterAll(() => stopServe(server.child));

  it('counts each answer by the route it matched, its method and status, and times it', async () => {
    const key = (await call(`${server.url}/api/v1/api-keys?limit=1`, tokens.bob)).body as { data: { id: string }[] };
    const keyId = key.data[0].id;
    expect((await call(`${server.url}/api/v1/users/me`, tokens.alice)).status).toBe(200);
    expect((await call(`${server.url}/api/v1/users/me`, tokens.alice)).status).toBe(200);
    expect((await call(`${server.url}/api/v1/api-keys/${keyId}`, tokens.bob)).status).toBe(200);
    expect((await call(`${server.url}/api/v1/users/me`, `${tokens.bob}x`)).status).toBe(401);
    // A token where a key id goes, and one in a path no route takes: counted, never written.
    expect((await call(`${server.url}/api/v1/api-keys/${tokens.alice}`, tokens.bob)).status).toBe(404);
    expect((await call(`${server.url}/no/${tokens.alice}`)).status).toBe(404);
    expect((await call(`${server.url}/api/v1/users/me`, tokens.alice, 'PUT')).status).toBe(405);

    const { text, value, contentType } = await scrape(metrics);
    expect(contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    const requests = (route: string, method: string, status: number) => value(`keyward_http_requests_total{route="${route}",method="${method}",status="${status}"}`);
    expect(requests('/api/v1/users/me', 'GET', 200)).toBe(2);
    expect(requests('/api/v1/users/me', 'GET', 401)).toBe(1);
    expect(requests('/api/v1/users/me', 'PUT', 405)).toBe(1);
    expect(requests('/api/v1/api-keys/:id', 'GET', 200)).toBe(1);
    expect(requests('/api/v1/api-keys/:id', 'GET', 404)).toBe(1);
    expect(requests('/api/v1/api-keys', 'GET', 200)).toBe(1);
    expect(requests('unmatched', 'GET', 404)).toBe(1);
    // A histogram a scraper accepts: buckets only grow, +Inf is the count, the sum is the times'.
    const series = '{route="/api/v1/users/me",method="GET"';
    const buckets = [...text.matchAll(new RegExp(`^keyward_http_request_duration_seconds_bucket\\${series},le="([^"]+)"\\} (\\d+)$`, 'gm'))].map((m) => [m[1], Number(m[2])] as const);
    expect(buckets.length).toBe(14);
    expect(buckets.at(-1)).toEqual(['+Inf', 3]);
    for (let i = 1; i < buckets.length; i++) expect(buckets[i][1]).toBeGreaterThanOrEqual(buckets[i - 1][1]);
    expect(value(`keyward_http_request_duration_seconds_count${series}}`)).toBe(3);
    expect(value(`keyward_http_request_duration_seconds_sum${series}}`)).toBeGreaterThan(0);
    // Each family said once, with its type, before its samples.
    expect(text).toMatch(/^# TYPE keyward_http_requests_total counter$/m);
    expect(text).toMatch(/^# TYPE keyward_http_request_duration_seconds histogram$/m);
    expect(text.match(/^# TYPE (\S+)/gm)!.length).toBe(new Set(text.match(/^# TYPE (\S+)/gm)).size);
    // Nothing of a request as sent: no token (nor any piece of one), key id, user, or path.
    for (const t of Object.values(tokens)) for (const piece of t.split('_').filter((p) => p.length >= 8)) expect(text).not.toContain(piece);
    expect(text).not.toContain(keyId);
    expect(text).not.toMatch(/alice|bob|\/no\//);
    expect(value('process_resident_memory_bytes')).toBeGreaterThan(1e6);
    expect(value('process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(value('nodejs_eventloop_lag_p99_seconds')).toBeGreaterThanOrEqual(0);
    // A JSON store has no connections, change feed or clock of its own to report; its disk's free space, as df sees it.
    expect(text).not.toMatch(/keyward_db_|keyward_change_feed|keyward_clock_offset/);
    const df = execFileSync('df', ['-B1', '--output=avail,size', dirname(store)], { encoding: 'utf8' }).trim().split('\n')[1].trim().split(/\s+/).map(Number);
    expect(Math.abs(value('keyward_store_disk_free_bytes')! - df[0])).toBeLessThan(df[1] * 0.01);
    expect(value('keyward_store_disk_size_bytes')).toBe(df[1]);
    // The alerting rules' disk metrics are these.
    const rules = readFileSync(join(repoRoot, 'docs/prometheus-alerts.yml'), 'utf8');
    const disk = [...new Set(rules.match(/\bkeyward_store_disk_[a-z_]+/g))];
    expect(disk.length).toBeGreaterThan(0);
    for (const name of disk) expect(value(name), name).toBeGreaterThan(0);
  });

  it('reports uses counted and not yet written, until a flush writes them', async () => {
    for (let i = 0; i < 5; i++) expect((await call(`${server.url}/api/v1/users/me`, tokens.bob)).status).toBe(200);
    const before = await scrape(metrics);
    expect(before.value('keyward_usage_pending_uses')).toBeGreaterThanOrEqual(5);
    // The server flushes every 5 s.
    let after = before;
    for (let i = 0; i < 100 && (after.value('keyward_usage_pending_uses') ?? 0) > 0; i++) {
      await new Promise((r) => setTimeout(r, 200));
      after = await scrape(metrics);
    }
    expect(after.value('keyward_usage_pending_uses')).toBe(0);
    expect(after.value('keyward_usage_flushes_total{result="ok"}')).toBeGreaterThanOrEqual(1);
    expect(after.value('keyward_usage_flushes_total{result="failed"}')).toBe(0);
    expect(after.value('keyward_usage_last_flush_timestamp_seconds')! * 1000).toBeGreaterThan(Date.now() - 60_000);
  }, 30_000);

  it('answers GET /metrics only, and the API does not answer it', async () => {
    const head = await fetch(metrics, { method: 'HEAD' });
    expect([head.status, await head.text()]).toEqual([200, '']);
    const post = await fetch(metrics, { method: 'POST' });
    expect([post.status, post.headers.get('allow')]).toEqual([405, 'GET']);
    expect((await fetch(metrics.replace(/\/metrics$/, '/api/v1/users/me'))).status).toBe(404);
    expect((await call(`${server.url}/metrics`, tokens.alice)).status).toBe(404);
  });
});

describe('keyward serve --metrics-port, refused', () => {
  it('refuses a port that is not one, before it listens', () => {
    for (const p of ['http', '65536', '80.5', '1e3']) {
      const r = keyward(['serve', '--port', '0', '--metrics-port', p], { KEYWARD_STORE: store, KEYWARD_USER: 'alice' });
      expect([r.code, codeOf(r)], r.stderr).toEqual([1, 'INVALID_INPUT']);
      expect(r.stderr).toContain('--metrics-port takes a port number from 0 to 65535');
    }
  });

  // That it gives the API's port back before it refuses: packages/server/test/metrics-port.test.ts, in a process that lives on.
  it('refuses a metrics port in use, before it serves', async () => {
    const taken = await startServe(store);
    const port = new URL(taken.url).port;
    const api = await freePort();
    const r = keyward(['serve', '--port', String(api), '--metrics-port', port], { KEYWARD_STORE: store, KEYWARD_USER: 'alice' });
    expect([r.code, codeOf(r)], r.stderr).toEqual([1, 'UNAVAILABLE']);
    expect(r.stderr).toContain(`Cannot listen on http://127.0.0.1:${port}: the port is in use.`);
    await stopServe(taken.child);
  });
});
