// load_balance_hosts in a URL with several hosts (connection.ts
// loadBalanceOf, keyward-client.ts PrimaryChoice): with random, each look for
// the primary tries the hosts in an order of its own, so the stores of many
// servers spread over hosts that reach the same primary (a proxy on each of
// them), as libpq spreads its connections; without it, or with disable,
// always the list's order. Two hosts here reach one real PostgreSQL: the
// server itself and a TCP proxy in front of it.

import net from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connectionConfig } from '../../src/store/postgres/connection.js';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/postgres.js';

const LOOKS = 40;

let db: TestDatabase;
let proxy: net.Server;
let hostsUrl: string;

beforeAll(async () => {
  db = await createTestDatabase();
  const target = Number(new URL(db.url).port);
  proxy = net.createServer((client) => {
    const upstream = net.connect(target, '127.0.0.1');
    for (const [a, b] of [[client, upstream], [upstream, client]]) {
      a.on('error', () => b.destroy());
      a.on('close', () => b.destroy());
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const proxied = (proxy.address() as net.AddressInfo).port;
  // postgres://USER:PASS@127.0.0.1:PORT,127.0.0.1:PROXY/DB
  hostsUrl = db.url.replace(`127.0.0.1:${target}`, `127.0.0.1:${target},127.0.0.1:${proxied}`);
  expect(hostsUrl).not.toBe(db.url);
});
afterAll(async () => {
  await new Promise((resolve) => proxy.close(resolve));
  await db.drop();
});

/** The port each of LOOKS stores, opened on `url`, connects to first (each store looks for the primary once). */
async function portsChosen(url: string, env: NodeJS.ProcessEnv = {}): Promise<Set<number>> {
  const ports = new Set<number>();
  for (let i = 0; i < LOOKS; i++) {
    const config = connectionConfig(url, env);
    ports.add((await config.primaryOf!.primary(config)).port);
  }
  return ports;
}

it('random: the looks spread over both hosts (all 40 on one: a chance of 2 in 2^40)', async () => {
  expect((await portsChosen(`${hostsUrl}?sslmode=disable&load_balance_hosts=random`)).size).toBe(2);
  expect((await portsChosen(`${hostsUrl}?sslmode=disable`, { PGLOADBALANCEHOSTS: 'random' })).size).toBe(2);
});

it("disable, or nothing said: always the list's first host, as libpq", async () => {
  const first = Number(new URL(db.url).port);
  expect(await portsChosen(`${hostsUrl}?sslmode=disable&load_balance_hosts=disable`)).toEqual(new Set([first]));
  expect(await portsChosen(`${hostsUrl}?sslmode=disable`)).toEqual(new Set([first]));
  // The URL's word wins over the environment's.
  expect(await portsChosen(`${hostsUrl}?sslmode=disable&load_balance_hosts=disable`, { PGLOADBALANCEHOSTS: 'random' })).toEqual(new Set([first]));
});
