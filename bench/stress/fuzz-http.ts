// An HTTP fuzzer for a running Keyward server, for a fixed time: random
// methods, paths, headers and bodies — huge, truncated and deeply nested JSON,
// bad UTF-8, bad JSON Patch, broken framing — written as raw bytes on fresh
// connections, so nothing a client library would refuse to send is left out.
// Every answer must be below 500 and every error in behaviour §3's shape
// {errors:[{code, title, detail?, status}]}.
import { connect } from 'node:net';
import { Tally } from './ledger.js';

export interface FuzzTarget {
  port: number;
  /** Tokens of live keys: an admin's and a developer's. */
  tokens: { admin: string; developer: string; throwaway: string };
  /** Ids of keys that the fuzz may rename, revoke and delete. */
  victims: string[];
  tenantId: string;
}

export interface FuzzFigures {
  seconds: number;
  requests: number;
  statuses: Record<string, number>;
  /** Requests cut short on purpose that got no answer (allowed). */
  unanswered: number;
  invariantsChecked: number;
  failures: number;
}

interface Shot {
  bytes: Buffer;
  /** The request deliberately stops short: no answer is a right answer. */
  truncated: boolean;
  head: boolean;
  what: string;
}

// Mostly the API's own methods, so most requests get past routing.
const METHODS = ['GET', 'GET', 'GET', 'POST', 'POST', 'POST', 'PATCH', 'PATCH', 'DELETE', 'DELETE', 'PUT', 'HEAD', 'OPTIONS', 'FOO', 'get', 'G(T', ''];

function shots(t: FuzzTarget, rand: () => number) {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const hex = (n: number) => Array.from({ length: n }, () => '0123456789abcdef'[Math.floor(rand() * 16)]).join('');
  const paths = () => {
    const id = pick([...t.victims, hex(24), '__proto__', 'constructor', 'verify', 'usage', '%00', '%ff', '%', '..', hex(23), 'ZZZZZZZZZZZZZZZZZZZZZZZZ']);
    return pick([
      '/api/v1/api-keys',
      '/api/v1/api-keys/verify',
      '/api/v1/api-keys/revoke',
      '/api/v1/api-keys/delete-mine',
      '/api/v1/api-keys/usage',
      `/api/v1/api-keys/configs/${t.tenantId}`,
      `/api/v1/api-keys/configs/${id}`,
      `/api/v1/api-keys/${id}`,
      `/api/v1/api-keys/${id}/revoke`,
      '/api/v1/users',
      '/api/v1/users/me',
      `/api/v1/users/${pick(['bob', 'alice', '__proto__', '%E2%80%AE', 'x'.repeat(300)])}`,
      '/api/v1/audits',
      '/api/v1',
      '/',
      '*',
      '//api//v1//api-keys',
      `/api/v1/${'a/'.repeat(2000)}`,
      `http://127.0.0.1/api/v1/users/me`,
      '/api/v1/api-keys/%C0%AF',
    ]);
  };
  const queries = () =>
    pick([
      '',
      '',
      '?limit=-5',
      '?limit=1e400',
      '?limit=50&limit=60',
      '?sort=__proto__',
      '?sort=-description',
      '?status=revoked',
      '?status=%00',
      '?startingAfter=zz&endingBefore=yy',
      '?since=P1D',
      '?since=99999-01-01',
      '?type=api-key.used',
      '?keyId=..',
      '?mode=delete',
      '?mode=other',
      `?search=${'%ff'.repeat(50)}`,
      `?${'x=1&'.repeat(2000)}`,
    ]);
  const values: unknown[] = [null, true, false, 0, -1, 1.5, 1e308, '', ' ', 'x', '__proto__', 'P1D', 'PT1S', 'P0D', '-P1D', 'P99999999999Y', '30d', [], {}, '\u0000', '\u202e', 'a'.repeat(300), { toString: 'x' }];
  const fields = ['description', 'expiry', 'sub', 'ids', 'token', 'name', 'licence', 'developer', 'admin', '__proto__', 'constructor', 'api_keys_enabled', 'max_keys_per_user', 'max_api_key_expiry', 'excessive_use_per_minute'];
  const jsonBody = (): string => {
    switch (Math.floor(rand() * 6)) {
      case 0:
        return JSON.stringify(Object.fromEntries(Array.from({ length: 1 + Math.floor(rand() * 3) }, () => [pick(fields), pick(values)])));
      case 1: // JSON Patch, good and bad
        return JSON.stringify(Array.from({ length: Math.floor(rand() * 3) }, () => ({ op: pick(['replace', 'add', 'remove', 'test', 'REPLACE', 7]), path: pick(['/description', '/', '', 'description', '/a/b', '/~1', `/${pick(fields)}`]), value: pick(values) })));
      case 2:
        return JSON.stringify({ description: `fuzz ${hex(4)}`, expiry: pick(['PT1H', 'P1D', 'P400D', 'nope']) });
      case 3:
        return JSON.stringify({ token: pick([t.tokens.developer, `kw_${hex(24)}_${'a'.repeat(32)}${hex(8)}`, 'kw_', 'x'.repeat(5000)]) });
      case 4:
        return JSON.stringify({ ids: [pick(t.victims), pick(values), hex(24)] });
      default:
        return JSON.stringify(pick(values));
    }
  };
  const body = (): { bytes: Buffer; what: string } => {
    const r = rand();
    if (r < 0.45) return { bytes: Buffer.from(jsonBody()), what: 'json' };
    if (r < 0.55) {
      const text = jsonBody();
      return { bytes: Buffer.from(text.slice(0, Math.floor(text.length / 2))), what: 'truncated json' };
    }
    if (r < 0.62) {
      const depth = pick([1000, 10_000, 100_000]);
      return rand() < 0.5 ? { bytes: Buffer.from('['.repeat(depth) + ']'.repeat(depth)), what: `${depth}-deep arrays` } : { bytes: Buffer.from('{"a":'.repeat(depth) + '1' + '}'.repeat(depth)), what: `${depth}-deep objects` };
    }
    if (r < 0.67) return { bytes: Buffer.from(JSON.stringify({ description: 'x'.repeat(pick([1024 * 1024 + 1, 2 * 1024 * 1024])) })), what: 'huge' };
    if (r < 0.75) {
      const good = Buffer.from('{"description":"caf\u00e9 ');
      return { bytes: Buffer.concat([good, Buffer.from([pick([0xff, 0xc0, 0xe2, 0xed]), pick([0xfe, 0x80, 0xa0, 0x28])]), Buffer.from('"}')]), what: 'bad UTF-8' };
    }
    if (r < 0.82) return { bytes: Buffer.from(Array.from({ length: Math.floor(rand() * 200) }, () => Math.floor(rand() * 256))), what: 'random bytes' };
    return { bytes: Buffer.alloc(0), what: 'empty' };
  };

  return (): Shot => {
    const method = pick(METHODS);
    const target = paths() + queries();
    const lines = [`${method} ${target} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close'];
    const auth = rand();
    const usedPath = target.split('?')[0];
    // delete-mine with a live token would end that token; only the throwaway one goes there.
    const token = usedPath.endsWith('delete-mine') ? t.tokens.throwaway : pick([t.tokens.admin, t.tokens.developer, t.tokens.admin]);
    if (auth < 0.75) lines.push(`Authorization: Bearer ${token}`);
    else if (auth < 0.8) lines.push(`Authorization: ${pick(['Basic YTpi', 'Bearer', 'Bearer kw_', `bearer  ${token} `, `Bearer ${token.slice(0, -1)}x`])}`);
    if (rand() < 0.8) lines.push(`Content-Type: ${pick(['application/json', 'application/json', 'application/json-patch+json', 'text/plain', 'application/json; charset=latin1', 'multipart/form-data; boundary=x', ''])}`);
    if (rand() < 0.1) lines.push(pick(['Prefer: return=representation', 'X-Forwarded-Proto: https', 'Expect: 100-continue', `X-Long: ${'y'.repeat(20_000)}`, `X-Bad: caf\u00e9`, 'Bad Header: x', 'Host: evil']));
    const b = method === 'GET' && rand() < 0.7 ? { bytes: Buffer.alloc(0), what: 'none' } : body();
    let truncated = false;
    let framing = 'content-length';
    const f = rand();
    let head: Buffer;
    let payload = b.bytes;
    if (f < 0.75) head = Buffer.from([...lines, `Content-Length: ${b.bytes.length}`, '', ''].join('\r\n'), 'latin1');
    else if (f < 0.83) {
      framing = 'short body';
      truncated = true;
      head = Buffer.from([...lines, `Content-Length: ${b.bytes.length + 100}`, '', ''].join('\r\n'), 'latin1');
    } else if (f < 0.9) {
      framing = 'chunked';
      payload = Buffer.concat([Buffer.from(b.bytes.length.toString(16) + '\r\n'), b.bytes, Buffer.from('\r\n0\r\n\r\n')]);
      head = Buffer.from([...lines, 'Transfer-Encoding: chunked', '', ''].join('\r\n'), 'latin1');
    } else if (f < 0.94) {
      framing = 'bad chunk';
      payload = Buffer.concat([Buffer.from('zz\r\n'), b.bytes]);
      head = Buffer.from([...lines, 'Transfer-Encoding: chunked', '', ''].join('\r\n'), 'latin1');
    } else if (f < 0.97) {
      framing = 'length and chunked';
      head = Buffer.from([...lines, `Content-Length: ${b.bytes.length}`, 'Transfer-Encoding: chunked', '', ''].join('\r\n'), 'latin1');
    } else {
      framing = 'bad length';
      head = Buffer.from([...lines, `Content-Length: ${pick(['-1', 'abc', '1e3', '99999999999999999999'])}`, '', ''].join('\r\n'), 'latin1');
    }
    return { bytes: Buffer.concat([head, payload]), truncated, head: method === 'HEAD', what: `${method || '(none)'} ${target.slice(0, 80)} [${b.what}, ${framing}]` };
  };
}

/**
 * Sends one request on a fresh connection; resolves with the raw answer ('' when
 * the server closed without one) and whether the connection was reset.
 */
function exchange(port: number, shot: Shot, timeoutMs: number): Promise<{ raw: Buffer; timedOut: boolean; reset: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let reset = false;
    const socket = connect(port, '127.0.0.1');
    const done = (timedOut: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ raw: Buffer.concat(chunks), timedOut, reset });
    };
    const timer = setTimeout(() => done(true), timeoutMs);
    socket.on('data', (d) => chunks.push(d));
    socket.on('error', (e: NodeJS.ErrnoException) => {
      // The answer read so far still counts.
      if (e.code === 'ECONNRESET' || e.code === 'EPIPE') reset = true;
    });
    socket.on('close', () => done(false));
    socket.write(shot.bytes, () => {
      if (shot.truncated) socket.end();
    });
  });
}

function checkAnswer(tally: Tally, shot: Shot, raw: Buffer, statuses: Record<string, number>): void {
  // An interim 100 Continue (the fuzz sometimes sends Expect) comes before the answer.
  while (/^HTTP\/1\.1 1\d\d /.test(raw.toString('latin1', 0, 16)) && raw.indexOf('\r\n\r\n') >= 0) raw = raw.subarray(raw.indexOf('\r\n\r\n') + 4);
  const text = raw.toString('latin1');
  const m = /^HTTP\/1\.1 (\d{3}) /.exec(text);
  if (!tally.check(!!m, () => `not an HTTP answer to ${shot.what}: ${text.slice(0, 80)}`)) return;
  const status = Number(m![1]);
  statuses[status] = (statuses[status] ?? 0) + 1;
  tally.check(status < 500, () => `${status} for ${shot.what}: ${text.slice(0, 300)}`);
  const split = text.indexOf('\r\n\r\n');
  const headers = text.slice(0, split);
  const length = /\r\ncontent-length: (\d+)/i.exec(headers);
  const bodyBytes = raw.subarray(split + 4, split + 4 + (length ? Number(length[1]) : raw.length));
  if (status < 400 || shot.head || status === 408) return;
  let body: { errors?: { code?: unknown; title?: unknown; detail?: unknown; status?: unknown }[] } | undefined;
  try {
    body = JSON.parse(bodyBytes.toString('utf8'));
  } catch {
    tally.fail(`${status} for ${shot.what} without a JSON body: ${bodyBytes.toString('latin1').slice(0, 120)}`);
    return;
  }
  const errors = body?.errors;
  tally.check(
    Array.isArray(errors) &&
      errors.length > 0 &&
      errors.every((e) => typeof e.code === 'string' && /^[A-Z_]+$/.test(e.code) && typeof e.title === 'string' && (e.detail === undefined || typeof e.detail === 'string') && e.status === status),
    () => `${status} for ${shot.what} not in the error shape: ${JSON.stringify(body).slice(0, 200)}`,
  );
}

export async function fuzzHttp(target: FuzzTarget, opts: { seconds: number; rand: () => number; concurrency?: number }): Promise<{ figures: FuzzFigures; tally: Tally }> {
  const tally = new Tally();
  const statuses: Record<string, number> = {};
  const next = shots(target, opts.rand);
  let requests = 0;
  let unanswered = 0;
  const until = Date.now() + opts.seconds * 1000;
  const loop = async () => {
    while (Date.now() < until) {
      const shot = next();
      requests++;
      const { raw, timedOut, reset } = await exchange(target.port, shot, 20_000);
      if (raw.length === 0) {
        // Only a request cut short on purpose may go unanswered. (A server
        // that answers before reading the body and then closes with it unread
        // has the kernel reset the connection, and the answer is lost: that
        // is a failure too.)
        unanswered++;
        tally.check(shot.truncated, () => `no answer to ${shot.what}${timedOut ? ' (timed out)' : reset ? ' (connection reset)' : ''}`);
        continue;
      }
      checkAnswer(tally, shot, raw, statuses);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency ?? 4 }, loop));
  return { tally, figures: { seconds: opts.seconds, requests, statuses, unanswered, invariantsChecked: tally.checked, failures: tally.failures } };
}
