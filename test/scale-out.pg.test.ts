// Three real `keyward serve` processes on one PostgreSQL database: the key
// limit holds under concurrent creates through different servers, a revoke
// through one is refused by the others within a second, and a server killed
// with SIGKILL under load loses nothing it acknowledged while the others
// keep serving.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/postgres.js';
import { bootstrap } from './support/flow.js';
import { keyward } from './support/keyward.js';
import { startServe } from './support/serve.js';
import { call, codeOf } from './support/http.js';

let db: TestDatabase;
let tokens: { alice: string; bob: string };
let servers: Awaited<ReturnType<typeof startServe>>[];

beforeAll(async () => {
  db = await createTestDatabase();
  tokens = bootstrap(db.url);
  servers = await Promise.all([0, 1, 2].map(() => startServe(db.url)));
});
afterAll(async () => {
  for (const s of servers ?? []) s.child.kill('SIGTERM');
  await db?.drop();
});

const keys = (i: number) => `${servers[i % servers.length].url}/api/v1/api-keys`;

describe('keyward serve ×3 on one PostgreSQL database', () => {
  it('never lets concurrent creates through different servers pass the key limit', async () => {
    const set = keyward(['settings', 'set', '--max-keys', '4'], { KEYWARD_STORE: db.url, KEYWARD_USER: 'alice' });
    expect(set.code, set.stderr).toBe(0);
    // bob holds one key (bootstrap); 30 creates race for the 3 places left.
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => call(keys(i), tokens.bob, 'POST', { description: `race ${i}` })));
    const made = answers.filter((a) => a.status === 201);
    expect(made).toHaveLength(3);
    expect(answers.filter((a) => a.status !== 201).map(codeOf)).toEqual(Array(27).fill('KEY_LIMIT_REACHED'));
    const listed = keyward(['keys', 'ls', '--owner', 'bob', '--status', 'active', '--json'], { KEYWARD_STORE: db.url, KEYWARD_USER: 'alice' });
    expect((JSON.parse(listed.stdout) as { data: unknown[] }).data).toHaveLength(4);
    keyward(['settings', 'set', '--max-keys', '1000'], { KEYWARD_STORE: db.url, KEYWARD_USER: 'alice' });
  });

  it('refuses a key revoked through one server on every other server within a second', async () => {
    const delays: number[] = [];
    for (let round = 0; round < 10; round++) {
      const via = round % 3;
      const created = await call(keys(via), tokens.alice, 'POST', { description: `revoke me ${round}` });
      expect(created.status).toBe(201);
      const { id, token } = created.body as { id: string; token: string };
      // Every server accepts it first (each has it cached now).
      for (const s of servers) expect((await call(`${s.url}/api/v1/users/me`, token)).status).toBe(200);
      const revoked = await call(`${keys(via)}/${id}`, tokens.alice, 'DELETE');
      expect(revoked.status).toBe(204);
      const at = Date.now();
      await Promise.all(
        servers.map(async (s) => {
          for (;;) {
            const a = await call(`${s.url}/api/v1/users/me`, token);
            // Refused: 401, or 429 once this address has failed too often (the server's throttle).
            if (a.status === 401 || a.status === 429) return delays.push(Date.now() - at);
            expect(a.status).toBe(200);
            if (Date.now() - at > 5000) throw new Error(`${s.url} still accepts a revoked key after 5 s`);
          }
        }),
      );
    }
    expect(Math.max(...delays)).toBeLessThan(1000);
  });

  it('what a server keeps between requests (key pages, active counts) follows changes made through another server within a second', async () => {
    const [a, b] = servers;
    type Listed = { data: { id: string; description: string; status: string }[] };
    const page = async () => ((await call(`${a.url}/api/v1/api-keys?limit=100`, tokens.bob)).body as Listed).data;
    const canGenerate = async () => ((await call(`${a.url}/api/v1/users/me`, tokens.bob)).body as { canGenerate: { ok: boolean } }).canGenerate.ok;
    const within = async <T>(read: () => Promise<T>, want: (v: T) => boolean, what: string) => {
      const at = Date.now();
      for (let v = await read(); !want(v); v = await read()) if (Date.now() - at > 1000) throw new Error(`server ${a.url} still shows the page before ${what} after 1 s`);
    };
    // Server a has bob's page and his active count cached.
    const before = await page();
    expect(await canGenerate()).toBe(true);
    await page();
    const made = await call(`${b.url}/api/v1/api-keys`, tokens.bob, 'POST', { description: 'made through b' });
    expect(made.status).toBe(201);
    const { id } = made.body as { id: string };
    await within(page, (p) => p.some((k) => k.id === id) && p.length === before.length + 1, 'a create');
    const renamed = await call(`${b.url}/api/v1/api-keys/${id}`, tokens.bob, 'PATCH', [{ op: 'replace', path: '/description', value: 'renamed through b' }]);
    expect(renamed.status).toBe(204);
    await within(page, (p) => p.find((k) => k.id === id)?.description === 'renamed through b', 'a rename');
    // The limit reached, then a key revoked through b: a's answer to "may bob generate?" follows both.
    const active = (await page()).filter((k) => k.status === 'active').length;
    expect(keyward(['settings', 'set', '--max-keys', String(active)], { KEYWARD_STORE: db.url, KEYWARD_USER: 'alice' }).code).toBe(0);
    await within(canGenerate, (ok) => !ok, 'the limit was lowered');
    expect((await call(`${b.url}/api/v1/api-keys/${id}`, tokens.alice, 'DELETE')).status).toBe(204);
    await within(canGenerate, (ok) => ok, 'a revoke');
    await within(page, (p) => p.find((k) => k.id === id)?.status === 'revoked', 'a revoke');
    keyward(['settings', 'set', '--max-keys', '1000'], { KEYWARD_STORE: db.url, KEYWARD_USER: 'alice' });
  });

  it('loses nothing acknowledged when a server is killed with SIGKILL under load, and the others keep serving', async () => {
    const victim = servers[2];
    const acknowledged: string[] = [];
    let afterKill = 0;
    let killedAt = 0;
    const load = async (worker: number) => {
      for (let i = 0; i < 40; i++) {
        const target = servers[(worker + i) % 3];
        const a = await call(`${target.url}/api/v1/api-keys`, tokens.alice, 'POST', { description: `load ${worker}.${i}` });
        if (a.status === 201) {
          acknowledged.push((a.body as { id: string }).id);
          if (killedAt && target !== victim) afterKill++;
        } else if (target !== victim) throw new Error(`a surviving server answered ${a.status} ${JSON.stringify(a.body)}`);
        if (worker === 0 && i === 10) {
          victim.child.kill('SIGKILL');
          killedAt = Date.now();
        }
      }
    };
    await Promise.all([0, 1, 2, 3].map(load));
    expect(afterKill).toBeGreaterThan(0);
    servers.pop();
    for (const id of acknowledged) expect((await call(`${keys(0)}/${id}`, tokens.alice)).status).toBe(200);
    expect(acknowledged.length).toBeGreaterThan(80);
  });
});
