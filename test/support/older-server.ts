// A Keyward server as it answered before views carried their viewer's actions
// (fabbacc): a loopback proxy in front of a real `keyward serve` that takes
// `actions` and `may` out of every JSON answer, and passes everything else
// (status, headers, the rest of each body) as the real server gave it.
import { type Server, createServer, request } from 'node:http';

function strip(doc: unknown): unknown {
  if (Array.isArray(doc)) return doc.map(strip);
  if (!doc || typeof doc !== 'object') return doc;
  return Object.fromEntries(Object.entries(doc).filter(([k]) => k !== 'actions' && k !== 'may').map(([k, v]) => [k, strip(v)]));
}

export async function startOlderServer(upstream: string): Promise<{ url: string; close: () => Promise<void> }> {
  const target = new URL(upstream);
  const server: Server = createServer((req, res) => {
    const out = request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (up) => {
      const chunks: Buffer[] = [];
      up.on('data', (c: Buffer) => chunks.push(c));
      up.on('end', () => {
        let body = Buffer.concat(chunks);
        if (/json/.test(String(up.headers['content-type'])) && body.length) body = Buffer.from(JSON.stringify(strip(JSON.parse(body.toString('utf8')))));
        const headers = { ...up.headers, 'content-length': String(body.length) };
        delete headers['transfer-encoding'];
        res.writeHead(up.statusCode ?? 502, headers);
        res.end(body);
      });
    });
    req.pipe(out);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(() => r())) };
}
