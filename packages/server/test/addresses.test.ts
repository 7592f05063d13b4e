// Where a key is used from: the socket's address, X-Forwarded-For only from a
// trusted proxy, and the address a service passes to POST /verify; the key
// shows the last distinct ones, newest first.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTrustedProxies } from '../src/index.js';
import { type Harness, startHarness } from './helpers.js';

let plain: Harness;
let proxied: Harness;
beforeAll(async () => {
  plain = await startHarness();
  proxied = await startHarness({ trustProxy: parseTrustedProxies('127.0.0.0/8, ::1') });
});
afterAll(async () => {
  await plain.close();
  await proxied.close();
});

const from = async (h: Harness, id: string) => ((await h.api('GET', `/api/v1/api-keys/${id}`, { token: h.tokens.alice })).body.lastUsedFrom as { address: string }[]).map((a) => a.address);

describe('last used from', () => {
  it('is the socket address, whatever X-Forwarded-For says, without a trusted proxy', async () => {
    const k = (await plain.api('POST', '/api/v1/api-keys', { token: plain.tokens.bob, body: { description: 'plain' } })).body;
    await plain.api('GET', '/api/v1/users/me', { token: k.token, headers: { 'x-forwarded-for': '203.0.113.9' } });
    await expect.poll(() => from(plain, k.id), { timeout: 5000 }).toEqual(['127.0.0.1']);
  });

  it('is the right-most untrusted X-Forwarded-For address behind a trusted proxy, newest first', async () => {
    const k = (await proxied.api('POST', '/api/v1/api-keys', { token: proxied.tokens.bob, body: { description: 'proxied' } })).body;
    for (const xff of ['198.51.100.1', '192.0.2.50, 203.0.113.9', '203.0.113.9, 127.0.0.2']) {
      await proxied.api('GET', '/api/v1/users/me', { token: k.token, headers: { 'x-forwarded-for': xff } });
      await new Promise((r) => setTimeout(r, 5));
    }
    // "Last used" may lag a flush by a moment (the store's answer is reused for a second).
    await expect.poll(() => from(proxied, k.id), { timeout: 5000 }).toEqual(['203.0.113.9', '198.51.100.1']);
    // A service checking a token for its own client passes the client's address.
    await proxied.api('POST', '/api/v1/api-keys/verify', { token: proxied.tokens.alice, body: { token: k.token, address: '2001:db8::7' } });
    await expect.poll(async () => (await from(proxied, k.id))[0], { timeout: 5000 }).toBe('2001:db8::7');
    const bad = await proxied.api('POST', '/api/v1/api-keys/verify', { token: proxied.tokens.alice, body: { token: k.token, address: 'not an\naddress' } });
    expect(bad.status).toBe(400);
  });

  it('raises api-key.new-address for an address the key was not used from, not for its first', async () => {
    const k = (await proxied.api('POST', '/api/v1/api-keys', { token: proxied.tokens.bob, body: { description: 'new address' } })).body;
    const use = (xff: string) => proxied.api('GET', '/api/v1/users/me', { token: k.token, headers: { 'x-forwarded-for': xff } });
    const events = async () => (await proxied.api('GET', `/api/v1/audits?keyId=${k.id}&eventType=api-key.new-address`, { token: proxied.tokens.alice })).body.data as { data: { address: string } }[];
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    await use('198.51.100.20');
    await sleep(300); // flushed (every 50 ms): the first address is known now
    await use('198.51.100.20');
    await sleep(300);
    expect(await events()).toEqual([]);
    await use('198.51.100.21');
    await expect.poll(async () => (await events()).map((e) => e.data.address), { timeout: 5000 }).toEqual(['198.51.100.21']);
  });

  it('refuses a --trust-proxy that is not a CIDR range', () => {
    expect(() => parseTrustedProxies('10.0.0.0/33')).toThrow(/CIDR/);
    expect(() => parseTrustedProxies('proxy.example')).toThrow(/CIDR/);
  });
});
