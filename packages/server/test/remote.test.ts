// createRemoteService beyond the contract: what a person sees when the server
// is not there or is not Keyward, and windows larger than the API's page.

import { type Server, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { JsonFileStore, KeywardError, createEngine, createJsonFileStore, createRemoteService, hashToken, newEvent, newKeyId, newToken } from '@keyward/core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startServer } from '../src/index.js';
import { type Harness, refusal, seedStore, startHarness, tempDir } from './helpers.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

async function listening(server: Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** The JSON store's changes (the next one, or every one) wait until `letGo`, then are made; `restore` lets them go and ends the hold. */
function holdingTheStoresChanges(which: 'the next' | 'every') {
  let letGo!: () => void;
  const held = new Promise<void>((r) => (letGo = r));
  const transact = JsonFileStore.prototype.transact;
  const hold = async function (this: JsonFileStore, ...a: Parameters<typeof transact>) {
    await held;
    return transact.apply(this, a);
  } as typeof transact;
  const spy = vi.spyOn(JsonFileStore.prototype, 'transact');
  if (which === 'the next') spy.mockImplementationOnce(hold);
  else spy.mockImplementation(hold);
  return {
    letGo,
    restore: () => {
      letGo();
      spy.mockRestore();
    },
  };
}

async function failure(p: Promise<unknown>): Promise<KeywardError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof KeywardError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('createRemoteService', () => {
  it('names the server URL as its location, with or without a trailing slash', async () => {
    expect((await createRemoteService(h.url, h.tokens.bob).whoami()).location).toBe(h.url);
    const slash = createRemoteService(`${h.url}/`, h.tokens.bob);
    expect((await slash.whoami()).location).toBe(`${h.url}/`);
    expect((await slash.getSettings()).api_keys_enabled).toBe(true);
  });

  it('says clearly when the server is down, never with a stack trace', async () => {
    const gone = await startServer({ storePath: h.storePath, port: 0, log: () => undefined });
    await gone.close();
    const e = await failure(createRemoteService(gone.url, h.tokens.bob).listKeys());
    expect(e.code).toBe('UNAVAILABLE');
    expect(e.message).toBe(`Cannot reach the Keyward server at ${gone.url}: connection refused (is \`keyward serve\` running there?).`);
    const nowhere = await failure(createRemoteService('http://keyward.invalid:8787', h.tokens.bob).whoami());
    expect([nowhere.code, nowhere.message]).toEqual(['UNAVAILABLE', expect.stringContaining('Cannot reach the Keyward server at http://keyward.invalid:8787')]);
  });

  it('a change the server did not answer in time is OUTCOME_UNKNOWN, not UNAVAILABLE ("nothing was changed"): it may have been done, and was', async () => {
    const storePath = join(tempDir(), 'keyward.json');
    const { tokens } = await seedStore(storePath);
    const slow = await startServer({ storePath, port: 0, log: () => undefined });
    // The server's create waits at its store until let go: past the client's patience, then made.
    const { letGo, restore } = holdingTheStoresChanges('the next');
    try {
      const remote = createRemoteService(slow.url, tokens.bob, { timeoutMs: 300 });
      const e = await failure(remote.generateKey({ description: 'bob slow create' }));
      expect([e.code, e.message]).toEqual(['OUTCOME_UNKNOWN', `The Keyward server at ${slow.url} did not answer POST /api/v1/api-keys (no answer in time), so whether it was done is not known; look (list your keys) before doing it again.`]);
      letGo();
      await expect.poll(async () => (await remote.listKeys({ search: 'bob slow create' })).data.length, { timeout: 10_000 }).toBe(1);
      // A server that cannot be reached at all has nothing: a change refused so is UNAVAILABLE.
      await slow.close();
      expect((await failure(remote.generateKey({ description: 'bob nowhere' }))).code).toBe('UNAVAILABLE');
    } finally {
      restore();
      await slow.close();
    }
  });

  it('a change a proxy in front answered 504 or 502 (it gave up after passing it on) is OUTCOME_UNKNOWN: it was made', async () => {
    const storePath = join(tempDir(), 'keyward.json');
    const { tokens, keyIds } = await seedStore(storePath);
    const keyward = await startServer({ storePath, port: 0, log: () => undefined });
    // A reverse proxy that passes each request on and answers 504 (HTML, as nginx does) when the server takes over 300 ms.
    let status = 504;
    const upstream = new URL(keyward.url);
    const proxy = createServer((req, res) => {
      const gaveUp = setTimeout(() => res.writeHead(status, { 'content-type': 'text/html' }).end('<html>Gateway Timeout</html>'), 300);
      const out = request({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
        clearTimeout(gaveUp);
        if (res.headersSent) return void answer.resume();
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      req.pipe(out);
    });
    const url = await listening(proxy);
    const { letGo, restore } = holdingTheStoresChanges('every');
    try {
      const remote = createRemoteService(url, tokens.bob);
      const e = await failure(remote.generateKey({ description: 'bob behind a proxy' }));
      expect([e.code, e.message]).toEqual(['OUTCOME_UNKNOWN', `The Keyward server at ${url} answered POST /api/v1/api-keys with HTTP 504, not Keyward's answer (a proxy in front of it?), so whether it was done is not known; look (list your keys) before doing it again.`]);
      status = 502;
      expect((await failure(remote.renameKey(keyIds.bob, 'renamed behind a proxy'))).code).toBe('OUTCOME_UNKNOWN');
      letGo();
      await expect.poll(async () => (await remote.listKeys({ search: 'bob behind a proxy' })).data.length, { timeout: 10_000 }).toBe(1);
    } finally {
      restore();
      proxy.closeAllConnections();
      proxy.close();
      await keyward.close();
    }
  });

  it('gives up on a server that does not answer in time', async () => {
    const silent = createServer(() => undefined);
    const url = await listening(silent);
    try {
      const e = await failure(createRemoteService(url, h.tokens.bob, { timeoutMs: 300 }).whoami());
      expect([e.code, e.message]).toEqual(['UNAVAILABLE', `Cannot reach the Keyward server at ${url}: no answer in time.`]);
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });

  it('tells a server that is not Keyward apart', async () => {
    const other = createServer((req, res) => {
      if (req.url?.startsWith('/api/v1/users/me')) {
        res.writeHead(200, { 'content-type': 'text/html' }).end('<html>hello</html>');
      } else if (req.url?.startsWith('/api/v1/api-keys?')) {
        res.writeHead(502).end('bad gateway');
      } else res.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"no"}');
    });
    const url = await listening(other);
    try {
      const remote = createRemoteService(url, h.tokens.bob);
      const html = await failure(remote.whoami());
      expect([html.code, html.message]).toEqual(['UNAVAILABLE', `The server at ${url} did not answer GET /api/v1/users/me in JSON; is it a Keyward server?`]);
      const gateway = await failure(remote.listKeys());
      expect([gateway.code, gateway.message]).toEqual(['UNAVAILABLE', `The server at ${url} answered GET /api/v1/api-keys with HTTP 502; is it a Keyward server?`]);
      expect((await failure(remote.listUsers())).code).toBe('UNAVAILABLE');
    } finally {
      other.close();
    }
  });

  it('refuses a URL that is not one, and a token that is not one without sending it', async () => {
    for (const url of ['', 'localhost:8787', 'ftp://host/', 'http//x']) {
      expect(() => createRemoteService(url, h.tokens.bob)).toThrow(KeywardError);
    }
    const before = h.logs.length;
    const e = await failure(createRemoteService(h.url, 'not-a-token\r\nX-Injected: 1').whoami());
    expect([e.code, e.message]).toEqual(['UNAUTHENTICATED', `The token for ${h.url} is not a Keyward token (kw_…).`]);
    expect(h.logs.length).toBe(before);
  });

  it('passes the server\'s refusal of its own token on, with the reason', async () => {
    const k = await createRemoteService(h.url, h.tokens.carol).generateKey({ description: 'soon revoked' });
    const remote = createRemoteService(h.url, k.token);
    expect((await remote.whoami()).user.name).toBe('carol');
    await createRemoteService(h.url, h.tokens.alice).revokeKey(k.id);
    const e = await failure(remote.whoami());
    expect([e.code, e.message]).toEqual(['UNAUTHENTICATED', 'The token has been revoked.']);
  });

  it('uses the fetch it is given', async () => {
    const seen: string[] = [];
    const remote = createRemoteService(h.url, h.tokens.bob, {
      fetch: (input, init) => {
        seen.push(`${init?.method} ${new URL(String(input)).pathname}`);
        return fetch(input, init);
      },
    });
    await remote.getSettings();
    expect(seen).toEqual(['GET /api/v1/users/me', expect.stringMatching(/^GET \/api\/v1\/api-keys\/configs\/[0-9a-f]+$/)]);
  });
});

describe('windows larger than the API page of 100', () => {
  it('are fetched page by page and equal what the engine answers in-process', async () => {
    const storePath = join(tempDir(), 'keyward.json');
    const { tokens } = await seedStore(storePath, { max_keys_per_user: 1000 });
    // 230 keys of carol's and their events in one transaction (one fsync, not 230).
    const store = createJsonFileStore(storePath);
    await store.transact((tx) => {
      const now = Date.now();
      for (let i = 0; i < 230; i++) {
        const id = newKeyId();
        const created = new Date(now + i).toISOString();
        const expiry = new Date(now + 86_400_000).toISOString();
        const description = `window ${String(i).padStart(3, '0')}`;
        tx.putKey({ id, description, owner: 'carol', createdBy: 'carol', created, lastUpdated: created, expiry, hash: hashToken(newToken(id)) });
        tx.emit(newEvent('api-key.generated', now + i, 'carol', id, { description, sub: 'carol', expiry }));
      }
    });
    const engine = createEngine(store, { usageFlushMs: 0 });
    // No flush while comparing: the remote's own requests must not add events under the engine's feet.
    const server = await startServer({ storePath, port: 0, log: () => undefined, usageFlushMs: 3_600_000 });
    try {
      const local = engine.as('alice');
      const remote = createRemoteService(server.url, tokens.alice);
      const sorted = { sort: '+description' } as const;
      const first = await local.listKeys({ ...sorted, limit: 150 });
      const queries = [
        { ...sorted, limit: 150 },
        { ...sorted, limit: 1000 },
        { ...sorted, limit: 120, startingAfter: first.data[20].id },
        { ...sorted, limit: 130, endingBefore: first.data[140].id },
        { ...sorted, limit: 101, offset: 50 },
        { ...sorted, limit: 5, offset: 400 },
        { status: 'active' as const, sub: 'carol', limit: 250 },
      ];
      for (const q of queries) {
        const [l, r] = [await local.listKeys(q), await remote.listKeys(q)];
        expect({ ...r, data: r.data.map((k) => k.id) }, JSON.stringify(q)).toEqual({ ...l, data: l.data.map((k) => k.id) });
      }
      const events = [{ limit: 300 }, { limit: 120, type: 'api-key.generated' as const }];
      for (const q of events) {
        const [l, r] = [await local.listEvents(q), await remote.listEvents(q)];
        // Day segments give no exact total (counting would read every day), so the pages alone are compared.
        expect(r.data.map((e) => e.id), JSON.stringify(q)).toEqual(l.data.map((e) => e.id));
      }
      const last = await local.listEvents({ limit: 10 });
      const back = { limit: 200, endingBefore: last.data[9].id };
      expect((await remote.listEvents(back)).data.map((e) => e.id)).toEqual((await local.listEvents(back)).data.map((e) => e.id));
      expect(await refusal(remote.listKeys({ limit: 100_001 }))).toBe(await refusal(local.listKeys({ limit: 100_001 })));
    } finally {
      await server.close();
      await engine.close();
    }
  });
});
