// connect_timeout in a store's URL (connection.ts connectTimeoutOf): a
// database that takes longer to answer a new connection than Keyward's own
// bound (the pool's 5 s) — across a region, behind a proxy that wakes a
// paused database — is reached when the URL allows that long, as libpq
// reaches it; without the parameter it is refused UNAVAILABLE, not a hang.

import net from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createPostgresStore } from '../../src/store/postgres/store.js';
import { type SeededDatabase, seededDatabase } from './seeded-database.js';

// Longer than the pool's own 5 s wait for a connection.
const SLOW_MS = 6_500;

let seeded: SeededDatabase;
let slow: net.Server;
let slowUrl: string;

beforeAll(async () => {
  seeded = await seededDatabase();
  const target = Number(new URL(seeded.db.url).port);
  // Holds every new connection SLOW_MS before passing it on: what the client sends meanwhile waits in its socket.
  slow = net.createServer((client) => {
    client.on('error', () => undefined);
    const timer = setTimeout(() => {
      const upstream = net.connect(target, '127.0.0.1');
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
      client.pipe(upstream).pipe(client);
    }, SLOW_MS);
    client.on('close', () => clearTimeout(timer));
  });
  await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
  slowUrl = Object.assign(new URL(seeded.db.url), { port: String((slow.address() as net.AddressInfo).port) }).toString();
});
afterAll(async () => {
  await new Promise((resolve) => slow.close(resolve));
  await seeded.drop();
});

const withParam = (url: string, param: string) => `${url}${url.includes('?') ? '&' : '?'}${param}`;

it('reaches a database slower to answer than the pool waits when connect_timeout allows it; refused UNAVAILABLE without', async () => {
  const patient = createPostgresStore(withParam(slowUrl, 'connect_timeout=15'));
  const hasty = createPostgresStore(slowUrl);
  try {
    const [reached, refused] = await Promise.allSettled([patient.tenant(), hasty.tenant()]);
    expect(reached.status === 'fulfilled' && reached.value?.name).toBeTruthy();
    expect(refused.status).toBe('rejected');
    expect((refused as PromiseRejectedResult).reason).toMatchObject({ code: 'UNAVAILABLE' });
  } finally {
    await Promise.all([patient.close(), hasty.close()]);
  }
}, 30_000);
