// POST /api/v1/api-keys/leaked, GitHub's secret scanning partner protocol,
// signed with key pairs the test makes (ECDSA P-256, base64 DER signatures).
import { type KeyObject, generateKeyPairSync, sign } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken, newKeyId, newToken } from '@keyward/core';
import { crc32 } from 'node:zlib';
import { parseLeakKeys } from '../src/index.js';
import { type Harness, errorCode, startHarness } from './helpers.js';

const pair = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });
const current = pair();
const previous = pair();
const stranger = pair();
const pem = (k: KeyObject) => k.export({ type: 'spki', format: 'pem' }).toString();
const keysDocument = JSON.stringify({
  public_keys: [
    { key_identifier: 'current-id', key: pem(current.publicKey), is_current: true },
    { key_identifier: 'previous-id', key: pem(previous.publicKey), is_current: false },
  ],
});

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ leakKeys: parseLeakKeys(keysDocument, 'keys.json'), authThrottle: { burst: 1000, perMinute: 1000 } });
});
afterAll(() => h.close());

function signed(body: string, privateKey: KeyObject, keyId: string) {
  const signature = sign('sha256', Buffer.from(body), { key: privateKey, dsaEncoding: 'der' }).toString('base64');
  return { 'content-type': 'application/json', 'github-public-key-identifier': keyId, 'github-public-key-signature': signature };
}

const report = (headers: Record<string, string>, raw: string) => h.api('POST', '/api/v1/api-keys/leaked', { headers, raw });

async function newKey(owner: 'bob' | 'carol', description: string) {
  return (await h.api('POST', '/api/v1/api-keys', { token: h.tokens[owner], body: { description } })).body as { id: string; token: string };
}

const statusOf = async (id: string) => (await h.api('GET', `/api/v1/api-keys/${id}`, { token: h.tokens.alice })).body.status;
const eventsOf = async (id: string) => (await h.api('GET', `/api/v1/audits?keyId=${id}&limit=100`, { token: h.tokens.alice })).body.data as { eventType: string; userId: string; data: Record<string, unknown> }[];

describe('POST /api/v1/api-keys/leaked', () => {
  it('revokes the key of each genuine active token at once and answers GitHub\'s feedback', async () => {
    const leaked = await newKey('bob', 'leaked in a gist');
    const old = await newKey('carol', 'revoked before');
    await h.api('POST', `/api/v1/api-keys/${old.id}/revoke`, { token: h.tokens.alice });
    const victim = await newKey('carol', 'id reused by a forger');
    const forgedBody = `kw_${victim.id}_${'a'.repeat(32)}`;
    const forged = forgedBody + crc32(forgedBody).toString(16).padStart(8, '0');
    const unknown = newToken(newKeyId());
    const url = 'https://github.com/octocat/Hello-World/blob/12345600b9cbe38a219f39a9941c9319b600c002/foo/bar.txt';
    const body = JSON.stringify([
      { token: leaked.token, type: 'keyward_api_token', url, source: 'content' },
      { token: old.token, type: 'keyward_api_token', url, source: 'commit' },
      { token: forged, type: 'keyward_api_token', url, source: 'content' },
      { token: unknown, type: 'keyward_api_token', url, source: 'content' },
      { token: 'kw_nonsense', type: 'keyward_api_token', url, source: 'npm' },
    ]);
    const a = await report(signed(body, current.privateKey, 'current-id'), body);
    expect(a.status, a.text).toBe(200);
    expect(a.body).toEqual([
      { token_hash: hashToken(leaked.token), token_type: 'keyward_api_token', label: 'true_positive' },
      { token_hash: hashToken(old.token), token_type: 'keyward_api_token', label: 'true_positive' },
      { token_hash: hashToken(forged), token_type: 'keyward_api_token', label: 'false_positive' },
      { token_hash: hashToken(unknown), token_type: 'keyward_api_token', label: 'false_positive' },
      { token_hash: hashToken('kw_nonsense'), token_type: 'keyward_api_token', label: 'false_positive' },
    ]);
    expect(await statusOf(leaked.id)).toBe('revoked');
    expect(await statusOf(victim.id)).toBe('active');
    expect((await h.api('GET', '/api/v1/users/me', { token: leaked.token })).status).toBe(401);

    const events = await eventsOf(leaked.id);
    expect(events.find((e) => e.eventType === 'api-key.leaked')).toMatchObject({ userId: 'secret-scanning', data: { url, source: 'content', sub: 'bob', status: 'active', revoked: true } });
    expect(events.find((e) => e.eventType === 'api-key.revoked')).toMatchObject({ userId: 'secret-scanning', data: { reason: 'leaked' } });
    expect((await eventsOf(old.id)).find((e) => e.eventType === 'api-key.leaked')).toMatchObject({ data: { status: 'revoked', revoked: false, source: 'commit' } });
    expect((await eventsOf(victim.id)).some((e) => e.eventType === 'api-key.leaked')).toBe(false);
    // No token, nor a piece of its secret, in the event log or the request log.
    const written = h.storeText() + h.logs.join('\n');
    for (const t of [leaked.token, old.token, forged, unknown]) expect(written).not.toContain(t.slice(28, 44));
  });

  it('takes a report signed with an earlier key that GitHub still names', async () => {
    const k = await newKey('bob', 'signed by the previous key');
    const body = JSON.stringify([{ token: k.token, type: 'keyward_api_token', url: 'https://example.invalid/x', source: 'content' }]);
    const a = await report(signed(body, previous.privateKey, 'previous-id'), body);
    expect([a.status, a.body[0].label]).toEqual([200, 'true_positive']);
    expect(await statusOf(k.id)).toBe('revoked');
  });

  it('refuses a missing, unknown, wrong or tampered signature with 401 and changes nothing', async () => {
    const k = await newKey('bob', 'must survive');
    const body = JSON.stringify([{ token: k.token, type: 'keyward_api_token', url: 'https://example.invalid/x', source: 'content' }]);
    const good = signed(body, current.privateKey, 'current-id');
    const tampered = JSON.stringify([{ token: k.token, type: 'keyward_api_token', url: 'https://example.invalid/y', source: 'content' }]);
    const attempts: Record<string, string>[] = [
      { 'content-type': 'application/json' },
      { ...good, 'github-public-key-signature': '' },
      { 'content-type': 'application/json', 'github-public-key-signature': good['github-public-key-signature'] },
      signed(body, stranger.privateKey, 'current-id'),
      signed(body, current.privateKey, 'no-such-id'),
      signed(body, previous.privateKey, 'current-id'),
      { ...good, 'github-public-key-signature': 'not base64!' },
      { ...good, 'github-public-key-signature': Buffer.from('garbage').toString('base64') },
    ];
    for (const headers of attempts) {
      const a = await report(headers, body);
      expect([a.status, errorCode(a)], JSON.stringify(headers)).toEqual([401, 'UNAUTHENTICATED']);
    }
    const t = await report(good, tampered);
    expect([t.status, errorCode(t)]).toEqual([401, 'UNAUTHENTICATED']);
    // A bearer token is no way in either.
    const b = await h.api('POST', '/api/v1/api-keys/leaked', { token: h.tokens.alice, raw: body, headers: { 'content-type': 'application/json' } });
    expect(b.status).toBe(401);
    expect(await statusOf(k.id)).toBe('active');
    expect((await eventsOf(k.id)).map((e) => e.eventType)).toEqual(['api-key.generated']);
  });

  it('refuses a signed body that is not a report, with 400', async () => {
    for (const body of ['{"token":"x"}', '[]', '[{"type":"t"}]', 'not json']) {
      const a = await report(signed(body, current.privateKey, 'current-id'), body);
      expect([a.status, errorCode(a)], body).toEqual([400, 'INVALID_INPUT']);
    }
  });
});

describe('a server without --leak-keys', () => {
  it('answers every report 401', async () => {
    const plain = await startHarness();
    try {
      const body = '[]';
      const a = await plain.api('POST', '/api/v1/api-keys/leaked', { headers: signed(body, current.privateKey, 'current-id'), raw: body });
      expect([a.status, errorCode(a)]).toEqual([401, 'UNAUTHENTICATED']);
      expect(a.body.errors[0].detail).toMatch(/--leak-keys/);
    } finally {
      await plain.close();
    }
  });
});

describe('parseLeakKeys', () => {
  it('refuses a document that is not GitHub\'s public keys', () => {
    expect(() => parseLeakKeys('nope', 'f.json')).toThrow(/not JSON/);
    expect(() => parseLeakKeys('{"public_keys":[]}', 'f.json')).toThrow(/no public_keys/);
    expect(() => parseLeakKeys('{"public_keys":[{"key_identifier":"a","key":"x"}]}', 'f.json')).toThrow(/not a PEM public key/);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
    expect(() => parseLeakKeys(JSON.stringify({ public_keys: [{ key_identifier: 'a', key: pem(rsa) }] }), 'f.json')).toThrow(/not an ECDSA P-256 key/);
  });
});
