// A server whose metrics port is taken does not start, and gives back the
// API's port it had taken before it says so: a supervisor that starts it
// again (or another server) finds that port free. In this process, which
// lives on after the refusal (the end-to-end test's process exits anyway).
import { type Server, createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startServer } from '../src/server.js';
import { seedStore, tempDir } from './helpers.js';

const listening = (port: number) =>
  new Promise<Server>((resolve, reject) => {
    const s = createServer();
    s.once('error', reject).listen(port, '127.0.0.1', () => resolve(s));
  });
const closed = (s: Server) => new Promise((resolve) => s.close(resolve));

describe('--metrics-port on a port in use', () => {
  it('is refused UNAVAILABLE, and the API port is free again', async () => {
    const storePath = join(tempDir(), 'keyward.json');
    await seedStore(storePath);
    const taken = await listening(0);
    const metricsPort = (taken.address() as { port: number }).port;
    // The API's port: one free now, taken by the server before it tries the metrics'.
    const probe = await listening(0);
    const port = (probe.address() as { port: number }).port;
    await closed(probe);

    await expect(startServer({ storePath, host: '127.0.0.1', port, metricsPort, log: () => undefined })).rejects.toMatchObject({ code: 'UNAVAILABLE', message: `Cannot listen on http://127.0.0.1:${metricsPort}: the port is in use.` });
    await closed(await listening(port));
    await closed(taken);
  });
});
