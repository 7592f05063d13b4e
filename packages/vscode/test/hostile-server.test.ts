// A hostile Keyward server cannot put control, bidirectional or invisible
// characters into what the editor shows: a real HTTP server on loopback
// answers with them in a refusal's detail, the signed-in user's names, the
// reason generating is refused and every text field of a key; the
// notifications, the Keys view's rows and its message show them escaped.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { newKeyId, newToken } from '@keyward/core';
import { activateOn, keysView, run } from './activate.js';
import { eventually } from './helpers.js';
import { type TreeItem, answer, mock } from './mock/vscode.js';

const HOSTILE = '\u001b]0;pwned\u0007\u009b2J\u202eevil\u200b!';
const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u200b]/;
const when = new Date(Date.now() + 86_400_000).toISOString();
const token = newToken(newKeyId());
const NO = { ok: false, code: 'ADMIN_ROLE_REQUIRED', message: HOSTILE };

/** Answers as a Keyward server would, with hostile text; `signIn: false` refuses the token. */
function hostileServer(signIn: boolean): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const refuse = (status: number, code: string) => reply(status, { errors: [{ status: String(status), code, title: HOSTILE, detail: HOSTILE }] });
    if (!signIn) return refuse(401, 'UNAUTHENTICATED');
    if (req.method === 'GET' && path === '/api/v1/users/me') {
      return reply(200, {
        id: 'bob',
        name: HOSTILE,
        licence: true,
        roles: ['Developer'],
        tenantId: 't',
        tenant: { id: 't', name: HOSTILE },
        settings: { api_keys_enabled: true, max_api_key_expiry: 'P30D', max_keys_per_user: 5, excessive_use_per_minute: 100, events_retention: 'P90D' },
        canGenerate: { ok: false, code: 'KEY_LIMIT_REACHED', message: HOSTILE },
        may: { seeAllKeys: NO, revokeKeys: NO, manageUsers: NO, changeSettings: NO, viewEvents: NO },
      });
    }
    if (req.method === 'GET' && path === '/api/v1/api-keys') {
      const key = { id: newKeyId(), tenantId: 't', description: HOSTILE, sub: 'bob', subType: 'user', status: 'active', created: when, createdByUser: HOSTILE, lastUpdated: when, expiry: when, actions: { rename: true, delete: true, revoke: true, rotate: true } };
      return reply(200, { data: [key], links: { self: { href: path } }, meta: { total: 1 } });
    }
    return refuse(403, 'NOT_KEY_OWNER');
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })));
}

let running: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (running ? running.close(() => resolve()) : resolve())));

/** Starts the hostile server, activates the extension on it and signs in with a well-formed token. */
async function signInTo(accepts: boolean): Promise<void> {
  const { server, url } = await hostileServer(accepts);
  running = server;
  await activateOn({ server: url }, { waitFor: 'needsSignIn' });
  answer(() => token);
  await run('keyward.signIn');
}

function expectInert(texts: (string | undefined)[]): void {
  for (const text of texts) expect(RAW.exec(text ?? ''), JSON.stringify(text)).toBeNull();
}

describe('the extension against a hostile server', () => {
  it('shows a refused sign-in inert', async () => {
    await signInTo(false);
    const shown = mock.messages.map((m) => m.message);
    expect(shown.at(-1)).toContain('␛]0;pwned^G\\u009b2J\\u202eevil\\u200b!');
    expectInert([...shown, keysView().message]);
  });

  it("shows a key's fields, the names and why generating is refused inert", async () => {
    await signInTo(true);
    await eventually(() => expect(mock.context.get('keyward.connected'), JSON.stringify(mock.messages)).toBe(true), 'signed in');
    const v = keysView();
    const items: TreeItem[] = [];
    for (const root of await v.provider.getChildren()) {
      items.push(v.provider.getTreeItem(root) as TreeItem);
      for (const child of await v.provider.getChildren(root)) items.push(v.provider.getTreeItem(child) as TreeItem);
    }
    expect(items.map((i) => i.label)).toContain('␛]0;pwned^G\\u009b2J\\u202eevil\\u200b!');
    await run('keyward.generateKey');
    const shown = mock.messages.map((m) => m.message);
    expect(shown.at(-1)).toContain('evil');
    expectInert([...shown, ...items.flatMap((i) => [i.label, i.description, i.tooltip].map((t) => (typeof t === 'string' ? t : undefined)))]);
  });
});
