// The two servers the HTTP benchmark compares, each in a process of its own so
// that neither shares a core with the load generator: `keyward` is the real
// server (startServer, with its request log going to stdout as in
// production), `bare` is the floor — node:http that hashes the bearer and
// looks the digest up in a Map. The port is sent back over IPC.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { StoreDocument } from '@keyward/core';
import { startServer } from '../packages/server/src/index.js';

const [mode, storePath] = process.argv.slice(2);

if (mode === 'keyward') {
  const server = await startServer({ storePath, port: 0 });
  process.send!({ port: server.port });
  process.once('disconnect', () => void server.close().then(() => process.exit(0)));
} else {
  // The store file is round 1's document until keyward opens it, then a snapshot holding it as `state`.
  const file = JSON.parse(readFileSync(storePath, 'utf8')) as StoreDocument | { version: 2; state: StoreDocument };
  const doc = file.version === 2 ? file.state : file;
  const owners = new Map(Object.values(doc.keys).map((k) => [k.hash, k.owner]));
  const server = createServer((req, res) => {
    const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
    const owner = m ? owners.get(createHash('sha256').update(m[1]).digest('hex')) : undefined;
    const body = owner ? JSON.stringify({ id: owner, name: owner }) : '{"errors":[{"code":"UNAUTHENTICATED"}]}';
    res.writeHead(owner ? 200 : 401, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }).end(body);
  });
  server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as AddressInfo).port }));
  process.once('disconnect', () => server.close(() => process.exit(0)));
}
