// The floor for the mixed HTTP benchmark (bench/http-mix.ts): plain node:http
// doing only the unavoidable part of each request of the mix — read the body,
// SHA-256 the bearer and look it up in a Map; for a verify, also hash and look
// up the token in the body; for a create, make a random token, hash it and
// add it to the Map. With `durable`, a create also appends the new hash to a
// file and fsyncs it — the least a server that must not lose a key can do.
// Plain JavaScript, so it starts without a build; the port goes back over IPC.
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { createServer } from 'node:http';

const [storePath, mode] = process.argv.slice(2);
const journal = mode === 'durable' ? openSync(`${storePath}.bare-${process.pid}.log`, 'a', 0o600) : undefined;
// The store file is round 1's document until keyward opens it, then a snapshot holding it as `state`.
const file = JSON.parse(readFileSync(storePath, 'utf8'));
const doc = file.version === 2 ? file.state : file;
const owners = new Map(Object.values(doc.keys).map((k) => [k.hash, k.owner]));
const sha256 = (text) => createHash('sha256').update(text).digest('hex');

function answer(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) }).end(text);
}

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
    const owner = m ? owners.get(sha256(m[1])) : undefined;
    if (!owner) return answer(res, 401, { errors: [{ code: 'UNAUTHENTICATED' }] });
    if (req.method === 'POST' && req.url === '/api/v1/api-keys/verify') {
      const { token } = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const of = owners.get(sha256(token));
      return answer(res, 200, of ? { valid: true, key: { sub: of } } : { valid: false });
    }
    if (req.method === 'POST') {
      const token = randomBytes(32).toString('base64url');
      const hash = sha256(token);
      owners.set(hash, owner);
      if (journal !== undefined) {
        writeSync(journal, `${hash} ${owner}\n`);
        fsyncSync(journal);
      }
      return answer(res, 201, { sub: owner, token });
    }
    answer(res, 200, { id: owner });
  });
});
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
process.once('disconnect', () =>
  server.close(() => {
    if (journal !== undefined) closeSync(journal);
    process.exit(0);
  }),
);
