import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { JsonFileStore, allEvents, createJsonFileStore } from '@keyward/core';
import { describe, expect, it, vi } from 'vitest';
import { startServer } from '../src/index.js';
import { client, seedStore, tempDir } from './helpers.js';

const fixture = fileURLToPath(new URL('./fixtures/serve.ts', import.meta.url));
const packageDir = fileURLToPath(new URL('..', import.meta.url));

async function usesOf(storePath: string, keyId: string): Promise<number> {
  const store = createJsonFileStore(storePath);
  try {
    return (await allEvents(store, { types: ['api-key.used'], keyId })).reduce((n, e) => n + Number(e.data.uses), 0);
  } finally {
    await store.close();
  }
}

/** The fixture's `keyward serve` on `storePath`, a real process: its URL, its stdout's further lines, its stderr so far, and its exit. */
async function serveProcess(storePath: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, storePath], { cwd: packageDir, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const first = await lines.next();
  expect(first.done, stderr).toBe(false);
  const { url } = JSON.parse(first.value) as { url: string };
  return { child, url, lines, exited, stderr: () => stderr };
}

describe('graceful shutdown', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`on ${signal}: answers what it took, flushes the counted uses, exits 0`, async () => {
      const storePath = join(tempDir(), 'keyward.json');
      const { tokens, keyIds } = await seedStore(storePath);
      const { child, url, lines, exited, stderr } = await serveProcess(storePath);
      const api = client(url);
      for (let i = 0; i < 7; i++) expect((await api('GET', '/api/v1/users/me', { token: tokens.bob })).status).toBe(200);
      expect(await usesOf(storePath, keyIds.bob)).toBe(0);

      child.kill(signal);
      expect(JSON.parse((await lines.next()).value)).toEqual({ closed: signal });
      expect(await exited, stderr()).toBe(0);
      expect(await usesOf(storePath, keyIds.bob)).toBe(7);
    });
  }

  it('on SIGTERM under load: the uses it flushed are the verifies it acknowledged, every one', async () => {
    const storePath = join(tempDir(), 'keyward.json');
    const { tokens, keyIds } = await seedStore(storePath);
    const { child, url, exited, stderr } = await serveProcess(storePath);
    let gone = false;
    void exited.then(() => (gone = true));
    // Clients authenticating as bob as fast as they can, each counting the answers it got: its acknowledged uses.
    let acknowledged = 0;
    const client = async () => {
      while (!gone) {
        try {
          const res = await fetch(`${url}/api/v1/users/me`, { headers: { authorization: `Bearer ${tokens.bob}` } });
          await res.arrayBuffer();
          if (res.status === 200) acknowledged++;
          else expect(res.status).toBe(200);
        } catch {
          // Refused or cut off once the server closes: not acknowledged.
          await new Promise((r) => setTimeout(r, 5));
        }
      }
    };
    const load = Promise.all(Array.from({ length: 24 }, client));
    await expect.poll(() => acknowledged, { timeout: 10_000 }).toBeGreaterThan(200);
    child.kill('SIGTERM');
    expect(await exited, stderr()).toBe(0);
    await load;
    expect(await usesOf(storePath, keyIds.bob)).toBe(acknowledged);
  });

  it('close() counts the use of a request still being handled after its client went away, before the last flush', async () => {
    const storePath = join(tempDir(), 'keyward.json');
    const { tokens, keyIds } = await seedStore(storePath);
    const server = await startServer({ storePath, port: 0, usageFlushMs: 3_600_000, log: () => undefined });
    // Carol's key is not cached yet: her request's verify reads it from the store, held back here until let go.
    let letGo!: () => void;
    const held = new Promise<void>((r) => (letGo = r));
    const getKey = JsonFileStore.prototype.getKey;
    const read = vi.spyOn(JsonFileStore.prototype, 'getKey').mockImplementationOnce(async function (this: JsonFileStore, id: string) {
      await held;
      return getKey.call(this, id);
    });
    try {
      const socket = connect(server.port, '127.0.0.1');
      socket.on('error', () => undefined);
      socket.write(`GET /api/v1/users/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${tokens.carol}\r\n\r\n`);
      await vi.waitFor(() => expect(read).toHaveBeenCalled());
      // The client gives up and resets its connection: gone at once (a FIN would leave it half open until the answer), its request still being handled as the server closes.
      socket.resetAndDestroy();
      await new Promise((r) => setTimeout(r, 20));
      const closing = server.close();
      setTimeout(letGo, 100);
      await closing;
    } finally {
      letGo();
      read.mockRestore();
    }
    expect(await usesOf(storePath, keyIds.carol)).toBe(1);
  });

  it('close() lets a request in flight finish, refuses new connections, and can be called twice', async () => {
    const storePath = join(tempDir(), 'keyward.json');
    const { tokens, keyIds } = await seedStore(storePath);
    const server = await startServer({ storePath, port: 0, usageFlushMs: 3_600_000, log: () => undefined });
    const api = client(server.url);
    expect((await api('GET', '/api/v1/users/me', { token: tokens.carol })).status).toBe(200);

    // A create whose body is half sent when closing starts: it is in flight, and still gets its answer.
    const body = JSON.stringify({ description: 'just in time' });
    const socket = connect(server.port, '127.0.0.1');
    let answer = '';
    socket.setEncoding('utf8').on('data', (d) => (answer += d));
    const ended = new Promise((r) => socket.once('close', r));
    const head = `POST /api/v1/api-keys HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${tokens.carol}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    await new Promise<void>((r) => socket.write(head + body.slice(0, 10), () => r()));
    // One turn of this process's event loop: the server (same process) has read the headers.
    await new Promise((r) => setTimeout(r, 20));
    const closing = server.close();
    socket.end(body.slice(10));
    await ended;
    expect(answer).toMatch(/^HTTP\/1\.1 201 /);
    await Promise.all([closing, server.close()]);
    await expect(fetch(`${server.url}/api/v1/users/me`)).rejects.toThrow();
    expect(await usesOf(storePath, keyIds.carol)).toBe(2);
  });
});
