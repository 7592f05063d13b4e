// Who the client is: the socket's address, or — only when that socket is a
// proxy the server was told to trust (`keyward serve --trust-proxy CIDR…`) —
// the right-most X-Forwarded-For address that is not itself a trusted proxy.
// Anyone can write X-Forwarded-For; only a trusted proxy's word counts.

import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';
import { KeywardError, printable } from '@keyward/core';

export type TrustedProxies = BlockList | undefined;

/** Parses CIDR ranges (or single addresses), comma- or space-separated; refuses anything else. */
export function parseTrustedProxies(text: string): BlockList {
  const list = new BlockList();
  for (const part of text.split(/[\s,]+/).filter(Boolean)) {
    const [address, bits] = part.split('/');
    const family = isIP(address);
    const prefix = bits === undefined ? (family === 6 ? 128 : 32) : Number(bits);
    if (family === 0 || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 6 ? 128 : 32) || (bits !== undefined && !/^\d+$/.test(bits))) {
      throw new KeywardError('INVALID_INPUT', `--trust-proxy takes CIDR ranges such as 10.0.0.0/8 or 2001:db8::/32, not "${printable(part)}".`);
    }
    list.addSubnet(address, prefix, family === 6 ? 'ipv6' : 'ipv4');
  }
  return list;
}

function trusted(list: BlockList, address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  const plain = mapped ? mapped[1] : address;
  const family = isIP(plain);
  return family !== 0 && list.check(plain, family === 6 ? 'ipv6' : 'ipv4');
}

export function clientAddress(req: IncomingMessage, proxies: TrustedProxies): string | undefined {
  const socket = req.socket.remoteAddress;
  if (!proxies || socket === undefined || !trusted(proxies, socket)) return socket;
  const header = req.headers['x-forwarded-for'];
  const hops = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',').map((h) => h.trim()).filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) {
    if (isIP(hops[i]) === 0) return socket; // a hop that is not an address: trust none of the header
    if (!trusted(proxies, hops[i])) return hops[i];
  }
  return socket;
}
