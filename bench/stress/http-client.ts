// One of the mixed load's HTTP clients: a developer of the tenant talking to
// `keyward serve` with their token (and with the admin's to revoke their
// keys), doing random operations until the deadline. Every answer is checked
// against the client's ledger; a 5xx is always a failure.
import { Ledger, Tally } from './ledger.js';

export interface Answer {
  status: number;
  body: any;
}

export async function call(url: string, method: string, path: string, token: string | undefined, body?: unknown): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

export interface ClientReport {
  ops: Record<string, number>;
  statuses: Record<string, number>;
  expectedRefusals: number;
}

export async function runHttpClient(opts: {
  url: string;
  user: string;
  token: string;
  adminToken: string;
  limit: number;
  until: number;
  rand: () => number;
  ledger: Ledger;
  tally: Tally;
}): Promise<ClientReport> {
  const { url, user, token, adminToken, limit, rand, ledger, tally } = opts;
  const ops: Record<string, number> = {};
  const statuses: Record<string, number> = {};
  let expectedRefusals = 0;
  const api = async (method: string, path: string, as: string | undefined, body?: unknown) => {
    const a = await call(url, method, path, as, body);
    statuses[a.status] = (statuses[a.status] ?? 0) + 1;
    tally.check(a.status < 500, () => `${user}: ${method} ${path} answered ${a.status} ${JSON.stringify(a.body)}`);
    return a;
  };
  const count = (op: string) => (ops[op] = (ops[op] ?? 0) + 1);

  while (Date.now() < opts.until) {
    const r = rand();
    try {
      if (r < 0.25) {
        count('create');
        const before = ledger.of(user, 'active').length;
        const a = await api('POST', '/api/v1/api-keys', token, { description: `${user} key ${ops.create}`, expiry: 'PT12H' });
        if (a.status === 201) {
          tally.check(before < limit, () => `${user}: generated a key over HTTP while holding ${before} active keys (limit ${limit})`);
          ledger.add({ id: a.body.id, owner: user, token: a.body.token, description: a.body.description, state: 'active' });
        } else {
          tally.check(a.status === 409 && a.body?.errors?.[0]?.code === 'KEY_LIMIT_REACHED' && before >= limit, () => `${user}: create answered ${a.status} ${JSON.stringify(a.body)} while holding ${before}`);
          expectedRefusals++;
        }
      } else if (r < 0.4) {
        count('list');
        const a = await api('GET', '/api/v1/api-keys?status=active&limit=100', token);
        const got = (a.body?.data ?? []).map((k: { id: string }) => k.id).sort();
        const want = ledger
          .of(user, 'active')
          .map((k) => k.id)
          .sort();
        tally.check(a.status === 200 && JSON.stringify(got) === JSON.stringify(want), () => `${user}: active list over HTTP ${got.length} keys, ledger ${want.length}`);
      } else if (r < 0.5) {
        const k = ledger.pick(user, ['active', 'revoked'], rand);
        if (!k) continue;
        count('rename');
        const description = `${user} renamed ${ops.rename}`;
        const a = await api('PATCH', `/api/v1/api-keys/${k.id}`, token, [{ op: 'replace', path: '/description', value: description }]);
        if (tally.check(a.status === 204, () => `${user}: rename of ${k.id} answered ${a.status}`)) k.description = description;
      } else if (r < 0.6) {
        const k = ledger.pick(user, ['active'], rand);
        if (!k) continue;
        count('revoke');
        const a = await api('POST', `/api/v1/api-keys/${k.id}/revoke`, adminToken);
        if (tally.check(a.status === 200 && a.body.status === 'revoked', () => `${user}: revoke of ${k.id} answered ${a.status}`)) k.state = 'revoked';
        // Refused on the very next request, by the verify route and as a bearer.
        const v = await api('POST', '/api/v1/api-keys/verify', token, { token: k.token });
        tally.check(v.status === 200 && v.body.valid === false, () => `${user}: revoked ${k.id} still verifies over HTTP`);
        const b = await api('GET', '/api/v1/users/me', k.token);
        tally.check(b.status === 401 || b.status === 429, () => `${user}: revoked ${k.id} authenticated (${b.status})`);
      } else if (r < 0.7) {
        const k = ledger.pick(user, ['active', 'revoked'], rand);
        if (!k) continue;
        count('delete');
        const a = await api('DELETE', `/api/v1/api-keys/${k.id}`, token);
        if (tally.check(a.status === 204, () => `${user}: delete of ${k.id} answered ${a.status}`)) k.state = 'deleted';
        const g = await api('GET', `/api/v1/api-keys/${k.id}`, token);
        tally.check(g.status === 404, () => `${user}: deleted ${k.id} can still be read (${g.status})`);
      } else {
        const k = ledger.pick(user, ['active', 'revoked', 'deleted'], rand);
        if (!k) continue;
        count('verify');
        const v = await api('POST', '/api/v1/api-keys/verify', token, { token: k.token });
        tally.check(v.status === 200 && v.body.valid === (k.state === 'active'), () => `${user}: ${k.state} key ${k.id} verified over HTTP as ${v.body?.valid}`);
        if (k.state === 'active') {
          const b = await api('GET', '/api/v1/users/me', k.token);
          tally.check(b.status === 200 && b.body.id === user, () => `${user}: live key ${k.id} did not authenticate (${b.status})`);
        }
      }
    } catch (e) {
      tally.fail(`${user}: ${(e as Error).message}`);
    }
  }
  return { ops, statuses, expectedRefusals };
}
