// The KeyService over HTTP. Every method is a call to a Keyward server (a few
// calls when a face asks for a window larger than the API's page of 100),
// which runs the same engine, so the answers and refusal codes are the ones
// a local store gives; only `whoami().location` says where the data lives.
// Whatever goes wrong on the way — no server, no answer in time, something
// that is not a Keyward server — becomes one KeywardError with a sentence,
// never a stack trace.

import { printable } from './duration.js';
import { tokenExpiresSoon } from './policy.js';
import { clampLimit } from './events.js';
import { checkIdOrPrefix, pickByPrefix } from './key-prefix.js';
import { KeywardError, isErrorCode, refuse } from './refusal.js';
import type { EventQuery, GenerateInput, KeyQuery, KeyService, Page, RemovedUser, RevokeReport, SettingsPatch, UserPatch, VerifyResult, WhoAmI } from './service.js';
import { parseToken } from './token.js';
import type { EventView, GeneratedKey, KeyView, SettingsView, UsageRow, UserView } from './views.js';
import { type RouteName, pathOf } from './wire/routes.js';
import { type WireErrors, type WireMe, type WirePage, whoamiOf } from './wire/types.js';
import { type OlderServerViewer, adminsAmong, keyViewWithActions, lacksActions, meWithActions, settingsOfView, usageRowWithActions, userOfView, userViewWithActions } from './wire/older-server.js';
import { isAdmin } from './domain.js';

export interface RemoteOptions {
  /** The fetch to use; the global one by default. */
  fetch?: typeof fetch;
  /** How long to wait for an answer before giving up: UNAVAILABLE, or OUTCOME_UNKNOWN for a change the server may have done. */
  timeoutMs?: number;
  /**
   * Told once, with the token's end (RFC 3339), when the server says the
   * token in use expires within 7 days (Keyward-Token-Expiration).
   */
  onTokenExpiring?: (expiry: string) => void;
}

/** The API's largest page (behaviour §3); larger windows are fetched page by page. */
const API_PAGE = 100;
const DEFAULT_TIMEOUT_MS = 30_000;

type Params = Record<string, string | number | undefined>;

interface CallOptions {
  params?: Params;
  body?: unknown;
  /** Ask for the changed resource in a PATCH's answer instead of 204. */
  representation?: boolean;
  /** A POST that changes nothing a caller would not repeat (a verify): its lost answer is UNAVAILABLE like a read's. */
  asks?: boolean;
}

// Failures of the connection itself: the request never reached the server.
const NEVER_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

/** Whether a change whose answer never came may have been done: unless the connection was never made, the server may have it. */
function mayHaveArrived(e: unknown): boolean {
  const code = e instanceof Error ? (e.cause as { code?: string } | undefined)?.code : undefined;
  return code === undefined || !NEVER_SENT.has(code);
}


function causeOf(e: unknown): string {
  if (e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError')) return 'no answer in time';
  const cause = e instanceof Error ? (e.cause as { code?: string; message?: string } | undefined) : undefined;
  if (cause?.code === 'ECONNREFUSED') return 'connection refused (is `keyward serve` running there?)';
  if (cause?.code === 'ENOTFOUND') return 'no such host';
  return cause?.message || cause?.code || (e instanceof Error ? e.message : String(e));
}

/** A patch object as JSON Patch `replace` operations (RFC 6901 escapes in the paths). */
function replaceOps(patch: object | undefined): { op: 'replace'; path: string; value: unknown }[] {
  return Object.entries(patch ?? {})
    .filter(([, value]) => value !== undefined)
    .map(([field, value]) => ({ op: 'replace', path: `/${field.replace(/~/g, '~0').replace(/\//g, '~1')}`, value }));
}

/** Path segments that the URL parser would swallow ("." and ".."), or an empty one. */
const unsendable = (segment: string) => segment === '' || segment === '.' || segment === '..';

class RemoteService implements KeyService {
  private readonly base: string;
  private readonly fetch: typeof fetch;
  private readonly timeoutMs: number;
  private tenantId?: string;
  private readonly onTokenExpiring?: (expiry: string) => void;
  private warnedExpiry = false;

  constructor(
    private readonly location: string,
    private readonly token: string,
    opts: RemoteOptions,
  ) {
    let url: URL | undefined;
    try {
      url = new URL(location);
    } catch {
      // refused below
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      refuse('INVALID_INPUT', `"${printable(location, 80)}" is not a server URL; give one like http://127.0.0.1:8787.`);
    }
    this.base = url.origin + url.pathname.replace(/\/+$/, '');
    this.fetch = opts.fetch ?? globalThis.fetch;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.onTokenExpiring = opts.onTokenExpiring;
  }

  private noteExpiry(res: Response): void {
    const expiry = res.headers.get('keyward-token-expiration');
    if (this.warnedExpiry || !this.onTokenExpiring || !expiry || !tokenExpiresSoon(expiry, Date.now())) return;
    this.warnedExpiry = true;
    this.onTokenExpiring(expiry);
  }

  private async call<T>(method: string, path: string, opts: CallOptions = {}): Promise<T> {
    // A malformed token cannot authenticate; saying so here also keeps stray text out of the header.
    if (!parseToken(this.token).ok) {
      refuse('UNAUTHENTICATED', `The token for ${this.location} is not a Keyward token (kw_…).`);
    }
    const url = new URL(this.base + path);
    for (const [k, v] of Object.entries(opts.params ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { Authorization: `Bearer ${this.token}`, Accept: 'application/json' };
    if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
    if (opts.representation) headers.Prefer = 'return=representation';

    const changes = method !== 'GET' && !opts.asks;
    let res: Response;
    let text: string;
    try {
      res = await this.fetch(url, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body), signal: AbortSignal.timeout(this.timeoutMs) });
      text = await res.text();
    } catch (e) {
      // UNAVAILABLE says nothing was changed (behaviour §5): a change the server may have done (its answer not in time, cut) is not that.
      if (changes && mayHaveArrived(e)) throw this.outcomeUnknown(`did not answer ${method} ${path} (${causeOf(e)})`);
      throw new KeywardError('UNAVAILABLE', `Cannot reach the Keyward server at ${this.location}: ${causeOf(e)}.`);
    }
    this.noteExpiry(res);
    let body: unknown;
    if (text !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
    }
    if (res.ok) {
      if (res.status !== 204 && body === undefined) {
        throw new KeywardError('UNAVAILABLE', `The server at ${this.location} did not answer ${method} ${path} in JSON; is it a Keyward server?`);
      }
      return body as T;
    }
    // WireErrors' shape, checked: a server that is not Keyward's may answer anything.
    const error: { code?: unknown; detail?: unknown } | undefined = (body as Partial<WireErrors> | undefined)?.errors?.[0];
    if (error && isErrorCode(error.code)) {
      throw new KeywardError(error.code, typeof error.detail === 'string' ? error.detail : `The server refused ${method} ${path} (${error.code}).`);
    }
    // A proxy in front that passed a change on, then gave up waiting (504) or lost the way back (502): it may have been done.
    if (changes && (res.status === 502 || res.status === 504)) throw this.outcomeUnknown(`answered ${method} ${path} with HTTP ${res.status}, not Keyward's answer (a proxy in front of it?)`);
    throw new KeywardError('UNAVAILABLE', `The server at ${this.location} answered ${method} ${path} with HTTP ${res.status}; is it a Keyward server?`);
  }

  private outcomeUnknown(what: string): KeywardError {
    return new KeywardError('OUTCOME_UNKNOWN', `The Keyward server at ${this.location} ${what}, so whether it was done is not known; look (list your keys) before doing it again.`);
  }

  /** A window of a list: one page, or several when the window is larger than the API's page. */
  private async window<T extends { id: string }>(path: string, params: Params, limit: number): Promise<Page<T>> {
    const backward = params.startingAfter === undefined && params.endingBefore !== undefined;
    const pages: WirePage<T>[] = [];
    let data: T[] = [];
    let position = params;
    for (;;) {
      const page = await this.call<WirePage<T>>('GET', path, { params: { ...position, limit: Math.min(API_PAGE, limit - data.length) } });
      pages.push(page);
      data = backward ? [...page.data, ...data] : [...data, ...page.data];
      const more = backward ? page.links.prev : page.links.next;
      if (!more || page.data.length === 0 || data.length >= limit) break;
      position = backward
        ? { ...params, endingBefore: page.data[0].id }
        : { ...params, offset: undefined, startingAfter: page.data[page.data.length - 1].id };
    }
    // The page nearest the start of the list says whether there is a previous one, the farthest whether there is a next.
    const [nearest, farthest] = backward ? [pages[pages.length - 1], pages[0]] : [pages[0], pages[pages.length - 1]];
    const result: Page<T> = { data, total: pages[pages.length - 1].meta.total };
    const next = farthest.links.next && new URL(farthest.links.next.href, this.base).searchParams.get('startingAfter');
    const prev = nearest.links.prev && new URL(nearest.links.prev.href, this.base).searchParams.get('endingBefore');
    if (next) result.next = next;
    if (prev) result.prev = prev;
    return result;
  }

  private async tenant(): Promise<string> {
    this.tenantId ??= (await this.call<WireMe>('GET', pathOf('me'))).tenantId;
    return this.tenantId;
  }

  async whoami(): Promise<WhoAmI> {
    const me = await this.call<WireMe>('GET', pathOf('me'));
    this.tenantId = me.tenantId;
    return whoamiOf(lacksActions(me) || me.may === undefined ? meWithActions(me, await this.olderAdmins(me)) : me, this.location);
  }

  // A server older than the views' actions answers without them (wire/older-server.ts): completed here, for the faces.

  /** The tenant's admins, asked only of an older server and only when the viewer is one (the last-admin rule). */
  private async olderAdmins(me: Pick<UserView, 'roles'>): Promise<number> {
    if (!Array.isArray(me.roles) || !isAdmin(me)) return 0;
    return adminsAmong(await this.olderUsers());
  }

  private async olderUsers(): Promise<UserView[]> {
    return (await this.call<{ data: UserView[] }>('GET', pathOf('users'))).data;
  }

  private async olderViewer(users?: readonly UserView[]): Promise<OlderServerViewer> {
    const me = await this.call<WireMe>('GET', pathOf('me'));
    return { actor: userOfView(me), settings: settingsOfView(me.settings), admins: users ? adminsAmong(users) : 0 };
  }

  private async keysWithActions<K extends KeyView>(views: K[]): Promise<K[]> {
    if (!views.some(lacksActions)) return views;
    const viewer = await this.olderViewer();
    return views.map((v) => keyViewWithActions(v, viewer, Date.now()));
  }

  private async keyWithActions<K extends KeyView>(view: K): Promise<K> {
    return (await this.keysWithActions([view]))[0];
  }

  private async usersWithActions(views: UserView[], all?: UserView[]): Promise<UserView[]> {
    if (!views.some(lacksActions)) return views;
    const viewer = await this.olderViewer(all ?? (await this.olderUsers()));
    return views.map((v) => userViewWithActions(v, viewer));
  }

  async getSettings(): Promise<SettingsView> {
    return this.call('GET', pathOf('config', { tenantId: await this.tenant() }));
  }

  async updateSettings(patch: SettingsPatch): Promise<SettingsView> {
    const ops = replaceOps(patch);
    return this.call('PATCH', pathOf('config', { tenantId: await this.tenant() }), { body: ops, representation: true });
  }

  async listUsers(): Promise<UserView[]> {
    const users = (await this.call<{ data: UserView[] }>('GET', pathOf('users'))).data;
    return this.usersWithActions(users, users);
  }

  async addUser(name: string, opts: { licence?: boolean } = {}): Promise<UserView> {
    const user = await this.call<UserView>('POST', pathOf('users'), { body: { name, licence: opts.licence } });
    return (await this.usersWithActions([user]))[0];
  }

  private userPath(name: string): string {
    if (typeof name !== 'string' || unsendable(name)) refuse('USER_NOT_FOUND', `There is no user "${printable(String(name))}" in this tenant.`);
    return pathOf('user', { name });
  }

  async updateUser(name: string, patch: UserPatch): Promise<UserView> {
    const path = this.userPath(name);
    const user = await this.call<UserView>('PATCH', path, { body: replaceOps(patch) });
    return (await this.usersWithActions([user]))[0];
  }

  async removeUser(name: string): Promise<RemovedUser> {
    const removed = await this.call<RemovedUser>('DELETE', this.userPath(name));
    return { ...removed, revoked: await this.keysWithActions(removed.revoked) };
  }

  /** The server's routes take whole ids (behaviour §3); a prefix is looked up in the key list, whose search covers ids. */
  async resolveKeyId(idOrPrefix: string): Promise<string> {
    const { text, whole } = checkIdOrPrefix(idOrPrefix);
    if (whole) return text;
    const found = await this.listKeys({ search: text, limit: 1000 });
    return pickByPrefix(text, found.data.map((k) => k.id));
  }

  async listKeys(q: KeyQuery = {}): Promise<Page<KeyView>> {
    const limit = clampLimit(q.limit, 20, 100_000);
    const page = await this.window<KeyView>(
      pathOf('keys'),
      {
        status: q.status,
        sub: q.sub,
        createdByUser: q.createdByUser,
        search: q.search,
        sort: q.sort,
        // As in the engine, startingAfter wins when both cursors are given.
        startingAfter: q.startingAfter,
        endingBefore: q.startingAfter === undefined ? q.endingBefore : undefined,
        offset: q.offset,
      },
      limit,
    );
    return { ...page, data: await this.keysWithActions(page.data) };
  }

  private keyPath(id: string, route: Extract<RouteName, 'key' | 'revokeKey' | 'rotateKey'> = 'key'): string {
    if (typeof id !== 'string' || unsendable(id)) refuse('KEY_NOT_FOUND', `No key "${printable(String(id))}".`);
    return pathOf(route, { id });
  }

  async getKey(id: string): Promise<KeyView> {
    return this.keyWithActions(await this.call<KeyView>('GET', this.keyPath(id)));
  }

  async generateKey(input: GenerateInput): Promise<GeneratedKey> {
    return this.keyWithActions(await this.call<GeneratedKey>('POST', pathOf('keys'), { body: input ?? null }));
  }

  async renameKey(id: string, description: string): Promise<KeyView> {
    return this.keyWithActions(await this.call<KeyView>('PATCH', this.keyPath(id), { body: [{ op: 'replace', path: '/description', value: description }], representation: true }));
  }

  async revokeKey(id: string): Promise<KeyView> {
    return this.keyWithActions(await this.call<KeyView>('POST', this.keyPath(id, 'revokeKey')));
  }

  async rotateKey(id: string, overlap?: string): Promise<GeneratedKey> {
    return this.keyWithActions(await this.call<GeneratedKey>('POST', this.keyPath(id, 'rotateKey'), { body: overlap === undefined ? {} : { overlap } }));
  }

  async revokeKeys(ids: string[]): Promise<RevokeReport> {
    const report = await this.call<RevokeReport>('POST', pathOf('revokeKeys'), { body: { ids } });
    return { ...report, revoked: await this.keysWithActions(report.revoked) };
  }

  async deleteKey(id: string): Promise<void> {
    // mode=delete: only ever a deletion, never Qlik's admin-revokes rule.
    await this.call('DELETE', this.keyPath(id), { params: { mode: 'delete' } });
  }

  async deleteOrRevokeKey(id: string): Promise<void> {
    await this.call('DELETE', this.keyPath(id));
  }

  async deleteAllKeys(): Promise<{ deleted: number }> {
    return this.call('POST', pathOf('deleteMine'));
  }

  async verifyToken(token: string, address?: string): Promise<VerifyResult> {
    const r = await this.call<VerifyResult>('POST', pathOf('verify'), { body: address === undefined ? { token } : { token, address }, asks: true });
    return r.valid && lacksActions(r.key) ? { ...r, key: await this.keyWithActions(r.key) } : r;
  }

  async listEvents(q: EventQuery = {}): Promise<Page<EventView>> {
    const limit = clampLimit(q.limit, 50, 1000);
    return this.window<EventView>(
      pathOf('audits'),
      { eventType: q.type, hideUsage: q.hideUsage ? 'true' : undefined, keyId: q.keyId, userId: q.userId, since: q.since, until: q.until, startingAfter: q.startingAfter, endingBefore: q.endingBefore },
      limit,
    );
  }

  async usage(q: { since?: string } = {}): Promise<UsageRow[]> {
    const rows = (await this.call<{ data: UsageRow[] }>('GET', pathOf('usage'), { params: { since: q.since } })).data;
    if (!rows.some(lacksActions)) return rows;
    const viewer = await this.olderViewer();
    return rows.map((r) => usageRowWithActions(r, viewer, Date.now()));
  }

  /** Nothing is held on this side: the server counts and flushes usage. */
  async close(): Promise<void> {}
}

/** A KeyService that works against the Keyward server at `url`, authenticating with `token`. */
export function createRemoteService(url: string, token: string, opts: RemoteOptions = {}): KeyService {
  return new RemoteService(url, token, opts);
}
