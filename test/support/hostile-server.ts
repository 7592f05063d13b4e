// A hostile "Keyward server" on loopback, for the faces' inert-output tests:
// it answers in the API's shapes, with escape sequences (OSC retitling, SGR
// colours, an 8-bit CSI, C1 string controls), a bidi override and an invisible
// character in a refusal's title and detail and in every text field it sends.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { newKeyId, newToken } from '@keyward/core';

export const HOSTILE = '\u001b]0;pwned\u0007\u001b[31mred\u001b[0m\u009b2J\u009d0;c1\u009c\u202eevil\u200b!';
/** HOSTILE as a face shows it: every unsafe character visible, none acted on. */
export const SHOWN = '␛]0;pwned^G␛[31mred␛[0m\\u009b2J\\u009d0;c1\\u009c\\u202eevil\\u200b!';
/** What may not reach a terminal raw from it: ESC, BEL, C1 (8-bit CSI, OSC, ST), the bidi override, the invisible character. */
export const RAW_FROM_HOSTILE = /[\u001b\u0007\u0080-\u009f\u202e\u200b]/;

/** A well-formed token (the adapter refuses to send a malformed one); the hostile server takes any. */
export const hostileToken = newToken(newKeyId());
export const hostileKeyId = newKeyId();

const when = () => new Date(Date.now() + 86_400_000).toISOString();
const yes = { ok: true };
const no = (code: string) => ({ ok: false, code, message: HOSTILE });

export interface HostileServer {
  url: string;
  close(): Promise<void>;
}

/**
 * `signIn: false` refuses every request (401, hostile detail). Otherwise
 * /users/me is a hostile admin who may not generate (hostile reason), the key
 * and user lists hold one hostile row each, the key id's route refuses with
 * KEY_NOT_FOUND, and anything else with ADMIN_ROLE_REQUIRED.
 */
export async function startHostileServer(opts: { signIn: boolean }): Promise<HostileServer> {
  const key = () => ({ id: hostileKeyId, tenantId: HOSTILE, description: HOSTILE, sub: HOSTILE, subType: 'user', status: 'active', created: when(), createdByUser: HOSTILE, lastUpdated: when(), expiry: when(), lastUsed: when(), actions: { rename: true, delete: true, revoke: true, rotate: true } });
  const user = { id: HOSTILE, name: HOSTILE, licence: true, roles: ['TenantAdmin', HOSTILE], actions: { setLicence: true, setRoles: true, demote: true, remove: true } };
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const get = req.method === 'GET';
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': status < 400 ? 'application/json' : 'application/problem+json' });
      res.end(JSON.stringify(body));
    };
    const refuse = (status: number, code: string) => reply(status, { errors: [{ status: String(status), code, title: HOSTILE, detail: HOSTILE }] });
    if (!opts.signIn) return refuse(401, 'UNAUTHENTICATED');
    if (get && path === '/api/v1/users/me') {
      return reply(200, {
        id: 'alice',
        name: HOSTILE,
        licence: true,
        roles: ['TenantAdmin', 'Developer'],
        actions: { setLicence: true, setRoles: true, demote: false, remove: false },
        tenantId: 't',
        tenant: { id: 't', name: HOSTILE },
        settings: { api_keys_enabled: true, max_api_key_expiry: 'P30D', max_keys_per_user: 5, excessive_use_per_minute: 100, events_retention: 'P90D' },
        canGenerate: no('KEY_LIMIT_REACHED'),
        may: { seeAllKeys: yes, revokeKeys: yes, manageUsers: yes, changeSettings: yes, viewEvents: yes },
        links: {},
      });
    }
    if (path === `/api/v1/api-keys/${hostileKeyId}`) return refuse(404, 'KEY_NOT_FOUND');
    if (get && path === '/api/v1/api-keys') return reply(200, { data: [key()], links: { self: { href: path } }, meta: { total: 1 } });
    if (get && path === '/api/v1/users') return reply(200, { data: [user] });
    return refuse(403, 'ADMIN_ROLE_REQUIRED');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
