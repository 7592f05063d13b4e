// An address that can be moved from one server to another, as a virtual IP
// or a TCP proxy (HAProxy in front of a PostgreSQL pair) moves in a
// failover: connections made from then on reach the new server, and those
// made before are cut. It runs in a process of its own, so that it forwards
// while the test waits on a `keyward` command (spawnSync blocks the test's
// own event loop).

import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface MovableAddress {
  /** The loopback port clients connect to. */
  readonly port: number;
  /** From when it resolves, connections go to `port`; every one open before is cut. */
  moveTo(port: number): Promise<void>;
  close(): Promise<void>;
}

// The proxy: prints its port, then takes a new target port on each line of stdin, answering "moved".
const PROXY = `
import net from 'node:net';
import { createInterface } from 'node:readline';
let target = Number(process.argv[1]);
const open = new Set();
const server = net.createServer((client) => {
  const upstream = net.connect(target, '127.0.0.1');
  for (const s of [client, upstream]) {
    open.add(s);
    s.on('close', () => open.delete(s));
    // Either side failing or closing ends both, as a proxy does.
    s.on('error', () => (client.destroy(), upstream.destroy()));
    s.on('close', () => (client.destroy(), upstream.destroy()));
  }
  client.pipe(upstream).pipe(client);
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
createInterface({ input: process.stdin }).on('line', (line) => {
  target = Number(line);
  for (const s of open) s.destroy();
  console.log('moved');
});
process.stdin.on('end', () => process.exit(0));
`;

export async function movableAddress(targetPort: number): Promise<MovableAddress> {
  const child: ChildProcess = spawn(process.execPath, ['--input-type=module', '-e', PROXY, String(targetPort)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async () => {
    const { value, done } = await lines.next();
    if (done) throw new Error('the proxy exited');
    return value as string;
  };
  const port = Number(await next());
  return {
    port,
    async moveTo(to) {
      child.stdin!.write(`${to}\n`);
      expectMoved(await next());
    },
    close: () =>
      new Promise((closed) => {
        if (child.exitCode !== null) return closed();
        child.once('exit', () => closed());
        child.stdin!.end();
      }),
  };
}

function expectMoved(line: string): void {
  if (line !== 'moved') throw new Error(`the proxy said ${JSON.stringify(line)}`);
}
