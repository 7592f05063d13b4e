// `keyward serve --leak-keys FILE`: GitHub's public keys document read from a
// file, and a signed leak report revoking a key through the real process.
import { generateKeyPairSync, sign } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { keyward, tempDir } from './support/keyward.js';
import { bootstrap } from './support/flow.js';
import { startServe } from './support/serve.js';

describe('keyward serve --leak-keys', () => {
  it('revokes a key reported by a signed report, and refuses a keys file it cannot use', async () => {
    const dir = tempDir();
    const store = join(dir, 'keyward.json');
    const { bob } = bootstrap(store);
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const keysFile = join(dir, 'github-keys.json');
    writeFileSync(keysFile, JSON.stringify({ public_keys: [{ key_identifier: 'k1', key: publicKey.export({ type: 'spki', format: 'pem' }), is_current: true }] }));

    const server = await startServe(store, ['--leak-keys', keysFile]);
    const body = JSON.stringify([{ token: bob, type: 'keyward_api_token', url: 'https://github.com/o/r/blob/1/.env', source: 'content' }]);
    const signature = sign('sha256', Buffer.from(body), { key: privateKey, dsaEncoding: 'der' }).toString('base64');
    const res = await fetch(`${server.url}/api/v1/api-keys/leaked`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'Github-Public-Key-Identifier': 'k1', 'Github-Public-Key-Signature': signature },
      body,
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { label: string }[])[0].label).toBe('true_positive');
    const verify = keyward(['keys', 'verify', bob], { KEYWARD_STORE: store, KEYWARD_USER: 'alice' });
    expect([verify.code, verify.stderr]).toEqual([1, expect.stringContaining('revoked')]);
    server.child.kill('SIGTERM');

    writeFileSync(keysFile, '{"public_keys":[]}');
    const bad = keyward(['serve', '--port', '0', '--store', store, '--leak-keys', keysFile], { KEYWARD_USER: 'alice' });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/has no public_keys list.*\(INVALID_INPUT\)/);
  });
});
