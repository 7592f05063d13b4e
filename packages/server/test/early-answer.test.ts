// An answer given before the request's body was read — a broken request line,
// an unknown route, a missing token, a body over the limit — must reach a
// client that is still sending and asked to close the connection. Found by
// the HTTP fuzz (bench/stress/): the server closed with the body unread, the
// kernel reset the connection, and the client got no answer at all.
import { type ChildProcess, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedStore, tempDir } from './helpers.js';

// The server runs in a process of its own, as it does in production: in the
// test's own process the client's writes and the server's reads take turns on
// one event loop, and the reset never happens.
const fixture = fileURLToPath(new URL('./fixtures/serve.ts', import.meta.url));
const packageDir = fileURLToPath(new URL('..', import.meta.url));
let child: ChildProcess;
let port: number;
let bob: string;
beforeAll(async () => {
  const storePath = join(tempDir(), 'keyward.json');
  bob = (await seedStore(storePath)).tokens.bob;
  child = spawn(process.execPath, ['--import', 'tsx', fixture, storePath], { cwd: packageDir, stdio: ['ignore', 'pipe', 'inherit'] });
  const first = await new Promise<string>((resolve) => child.stdout!.once('data', (d: Buffer) => resolve(d.toString())));
  port = Number(new URL(JSON.parse(first.split('\n')[0]).url).port);
});
afterAll(() => {
  child.kill('SIGTERM');
});

/** Sends a request line and headers, then a 2 MB body, and resolves with everything the server answered. */
function sendBig(head: string): Promise<string> {
  const body = Buffer.alloc(2 * 1024 * 1024, 97);
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let out = '';
    socket.setEncoding('latin1');
    socket.on('data', (d) => (out += d));
    socket.on('error', () => undefined); // a reset is what the test is about: judged by what arrived
    socket.on('close', () => resolve(out));
    socket.write(`${head}\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
    socket.write(body);
  });
}

describe('answers given before the body is read', () => {
  const cases: [string, string, number, string][] = [
    ['an unknown route', 'POST /api/v1/nowhere HTTP/1.1', 404, 'NOT_FOUND'],
    ['a method the route does not take', 'PUT /api/v1/api-keys HTTP/1.1', 405, 'METHOD_NOT_ALLOWED'],
    ['a missing token', 'POST /api/v1/api-keys HTTP/1.1', 401, 'UNAUTHENTICATED'],
    ['a request line that does not parse', 'post /api/v1/api-keys HTTP/1.1', 400, 'INVALID_INPUT'],
  ];
  for (const [what, head, status, code] of cases) {
    it(`reach the client after ${what}, every time`, async () => {
      for (let i = 0; i < 5; i++) {
        const answer = await sendBig(head);
        expect(answer).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
        expect(answer).toContain(`"code":"${code}"`);
      }
    });
  }

  it('reach the client after a body over the limit, every time', async () => {
    for (let i = 0; i < 5; i++) {
      const answer = await sendBig(`POST /api/v1/api-keys HTTP/1.1\r\nAuthorization: Bearer ${bob}`);
      expect(answer).toMatch(/^HTTP\/1\.1 413 /);
      expect(answer).toContain('"code":"PAYLOAD_TOO_LARGE"');
    }
  });
});
