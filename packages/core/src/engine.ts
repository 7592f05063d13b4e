// The use cases of SPEC §2, one method each, over a Store. One Engine per
// process holds what must be shared by every actor it serves: the store, the
// clock, the in-memory usage counts and the list memo. `engine.as(user)` is
// the KeyService for one actor; the server makes one per request.

import { randomBytes } from 'node:crypto';
import { type ApiKey, DEFAULT_SETTINGS, type KeywardEvent, type Settings, type StoreDocument, type User, isAdmin, statusOf } from './domain.js';
import { type Clock, systemClock } from './clock.js';
import { parseDuration, printable, textOf } from './duration.js';
import { clampLimit, newEvent, parseSince, queryEvents, pageOf } from './events.js';
import { KeyIndex } from './key-query.js';
import { canSeeKey, checkAdmin, checkDescription, checkGenerate, checkOwnerChange, checkRevoke, checkSettings, checkUserName, enforce } from './policy.js';
import { KeywardError, refuse } from './refusal.js';
import type { EventQuery, GenerateInput, KeyQuery, KeyService, Page, RevokeReport, SettingsPatch, UserPatch, VerifyResult, WhoAmI } from './service.js';
import type { Store } from './store/types.js';
import { KEY_ID_PATTERN, constantTimeEqual, digestToken, hashToken, newKeyId, newToken, parseToken } from './token.js';
import { ActiveKeyCounts } from './active-keys.js';
import { KeyFacts } from './key-facts.js';
import { UsageRecorder } from './usage.js';
import { type EventView, type KeyView, type UsageRow, SETTING_FIELDS, type SettingsView, keyView, settingsView, userView } from './views.js';

export interface EngineOptions {
  clock?: Clock;
  /** How often counted uses are written to the event log. */
  usageFlushMs?: number;
}

/** What verify answers on the hot path: no views built, nothing written. */
export type VerifyOutcome =
  | { valid: true; key: ApiKey }
  | { valid: false; reason: 'malformed' | 'unknown' | 'expired' | 'revoked'; keyId?: string };

export interface InitOptions {
  tenant?: string;
  admin: string;
  clock?: Clock;
}

const DAY = 86_400_000;
const HOUR = 3_600_000;

/** Creates a store with a tenant and its first admin; false when one exists already. */
export async function initStore(store: Store, opts: InitOptions): Promise<boolean> {
  enforce(checkUserName(opts.admin));
  const tenantName = opts.tenant ?? 'default';
  if (typeof tenantName !== 'string' || tenantName.trim() === '' || tenantName.length > 100 || /[\u0000-\u001f\u007f-\u009f]/.test(tenantName)) {
    refuse('INVALID_INPUT', 'The tenant name must be 1 to 100 printable characters.');
  }
  const now = (opts.clock ?? systemClock).now();
  const iso = new Date(now).toISOString();
  const doc: StoreDocument = {
    version: 1,
    tenant: { id: randomBytes(8).toString('hex'), name: tenantName, created: iso, settings: { ...DEFAULT_SETTINGS } },
    users: { [opts.admin]: { id: opts.admin, licence: true, roles: ['TenantAdmin'], created: iso } },
    keys: {},
  };
  const created = await store.create(doc);
  if (created) await store.append([newEvent('user.added', now, opts.admin, undefined, { user: opts.admin, licence: true, roles: ['TenantAdmin'], firstAdmin: true })]);
  return created;
}

function checkKeyId(id: unknown): string {
  if (typeof id !== 'string' || !KEY_ID_PATTERN.test(id)) refuse('INVALID_INPUT', `"${printable(textOf(id))}" is not a key id (24 hexadecimal characters).`);
  return id;
}

function activeKeysOf(doc: StoreDocument, owner: string, now: number): number {
  const nowIso = new Date(now).toISOString();
  let n = 0;
  for (const id in doc.keys) {
    const k = doc.keys[id];
    if (k.owner === owner && !k.revokedAt && k.expiry > nowIso) n++;
  }
  return n;
}

export class Engine {
  readonly clock: Clock;
  private readonly usage = new UsageRecorder();
  private readonly index = new KeyIndex();
  private readonly facts = new KeyFacts(this.usage);
  private readonly activeKeys = new ActiveKeyCounts();
  // Bumped by every change made through this engine (the cached document is changed in place).
  private generation = 0;
  private timer?: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();
  private lastFlagged = new Map<string, number>();
  private lastUsedSeen = { events: undefined as readonly KeywardEvent[] | undefined, count: 0, map: new Map<string, string>() };

  constructor(readonly store: Store, opts: EngineOptions = {}) {
    this.clock = opts.clock ?? systemClock;
    const every = opts.usageFlushMs ?? 5000;
    if (every > 0) {
      this.timer = setInterval(() => void this.flush().catch(() => undefined), every);
      this.timer.unref();
    }
  }

  /** The KeyService for one actor (a user name of the tenant). */
  as(actor: string): KeyService {
    return new ActorService(this, actor);
  }

  /**
   * The hot path: parse, one lookup by id, one SHA-256, a constant-time
   * compare, and a counter bumped in memory. O(1) in the number of keys.
   */
  verify(token: string): VerifyOutcome {
    const now = this.clock.now();
    const parsed = parseToken(token);
    if (!parsed.ok) {
      this.usage.recordFailure(undefined, 'malformed', now);
      return { valid: false, reason: 'malformed' };
    }
    const doc = this.store.peek();
    const facts = doc === undefined ? undefined : this.facts.of(doc, this.generation, parsed.keyId);
    if (facts === undefined) {
      this.usage.recordFailure(undefined, 'unknown', now);
      return { valid: false, reason: 'unknown' };
    }
    const key = facts.key;
    if (!constantTimeEqual(digestToken(token), facts.digest)) {
      this.usage.recordFailure(key.id, 'unknown', now);
      return { valid: false, reason: 'unknown', keyId: key.id };
    }
    // Revoked wins over expired (SPEC §1), as in statusOf.
    const status = key.revokedAt ? 'revoked' : facts.expiresAt <= now ? 'expired' : 'active';
    if (status !== 'active') {
      this.usage.recordFailure(key.id, status, now);
      return { valid: false, reason: status, keyId: key.id };
    }
    this.usage.recordUse(key.id, now, doc!.tenant.settings.excessiveUsePerMinute, facts.counter);
    return { valid: true, key };
  }

  /** Writes counted uses, failures and excessive-use flags to the event log. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.flushNow());
    return this.flushing;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flush();
    await this.store.close();
  }

  private async flushNow(): Promise<void> {
    if (this.usage.isEmpty) return;
    const batch = this.usage.drain(this.clock.now());
    try {
      const doc = await this.store.read();
      if (!doc) return;
      const events: KeywardEvent[] = [];
      for (const [keyId, u] of batch.uses) {
        const owner = doc.keys[keyId]?.owner ?? 'unknown';
        events.push(newEvent('api-key.used', u.last, owner, keyId, { uses: u.uses, from: new Date(u.first).toISOString(), to: new Date(u.last).toISOString() }));
      }
      for (const [keyId, f] of batch.failures) {
        const owner = keyId ? doc.keys[keyId]?.owner : undefined;
        events.push(newEvent('api-key.auth-failed', f.last, owner ?? 'anonymous', keyId || undefined, { count: f.count, reasons: f.reasons, from: new Date(f.first).toISOString(), to: new Date(f.last).toISOString() }));
      }
      if (batch.candidates.length > 0) {
        const all = await this.store.events();
        for (const c of batch.candidates) {
          const flagged = this.lastFlagged.get(c.keyId);
          if (flagged !== undefined && c.at - flagged < HOUR) continue;
          const dayUses = usesSince(all, c.keyId, c.at - DAY) + (batch.uses.get(c.keyId)?.uses ?? 0);
          const perMinute = dayUses / 1440;
          if (c.minuteUses <= 10 * perMinute) continue;
          if (all.some((e) => e.eventType === 'api-key.excessive-use' && e.keyId === c.keyId && Date.parse(e.eventTime) > c.at - HOUR)) continue;
          this.lastFlagged.set(c.keyId, c.at);
          const owner = doc.keys[c.keyId]?.owner ?? 'unknown';
          events.push(newEvent('api-key.excessive-use', c.at, owner, c.keyId, {
            usesInMinute: c.minuteUses,
            threshold: doc.tenant.settings.excessiveUsePerMinute,
            dailyAveragePerMinute: Math.round(perMinute * 100) / 100,
          }));
        }
      }
      await this.store.append(events);
    } catch (e) {
      this.usage.restore(batch);
      throw e;
    }
  }

  // ---- shared helpers for ActorService ----

  bump(): void {
    this.generation++;
  }

  keysMatching(doc: StoreDocument, q: KeyQuery, ownerOnly?: string): ApiKey[] {
    return this.index.matching(doc, this.generation, q, this.clock.now(), ownerOnly);
  }

  /** Last use per key: from the event log, plus what this process has not flushed yet. */
  async lastUsed(): Promise<(keyId: string) => string | undefined> {
    const events = await this.store.events();
    const seen = this.lastUsedSeen;
    if (seen.events !== events || events.length < seen.count) {
      seen.events = events;
      seen.count = 0;
      seen.map = new Map();
    }
    for (let i = seen.count; i < events.length; i++) {
      const e = events[i];
      if (e.eventType === 'api-key.used' && e.keyId) {
        const to = typeof e.data.to === 'string' ? e.data.to : e.eventTime;
        const prev = seen.map.get(e.keyId);
        if (!prev || to > prev) seen.map.set(e.keyId, to);
      }
    }
    seen.count = events.length;
    const usage = this.usage;
    return (keyId) => {
      const p = usage.pending(keyId);
      const flushed = seen.map.get(keyId);
      if (!p) return flushed;
      const mine = new Date(p.last).toISOString();
      return !flushed || mine > flushed ? mine : flushed;
    };
  }

  /** Active keys of an owner, from a memo (whoami); the key limit itself is checked by a scan inside the transaction. */
  activeKeysOf(doc: StoreDocument, owner: string): number {
    return this.activeKeys.count(doc, this.generation, owner, this.clock.now());
  }

  pendingUses(keyId: string): number {
    return this.usage.pending(keyId)?.uses ?? 0;
  }
}

function usesSince(all: readonly KeywardEvent[], keyId: string, since: number): number {
  const sinceIso = new Date(since).toISOString();
  let n = 0;
  for (let i = all.length - 1; i >= 0; i--) {
    const e = all[i];
    if (e.eventTime < sinceIso) break;
    if (e.eventType === 'api-key.used' && e.keyId === keyId) n += Number(e.data.uses) || 0;
  }
  return n;
}

/** The use cases for one actor. Every change runs read–check–write in one transaction. */
class ActorService implements KeyService {
  constructor(
    private readonly engine: Engine,
    private readonly actorName: string,
  ) {}

  private get now(): number {
    return this.engine.clock.now();
  }

  private async doc(): Promise<StoreDocument> {
    const doc = await this.engine.store.read();
    if (!doc) refuse('UNAVAILABLE', `There is no Keyward store at ${this.engine.store.location}; run \`keyward init\` to create one.`);
    return doc;
  }

  private actorIn(doc: StoreDocument): User {
    const u = Object.hasOwn(doc.users, this.actorName) ? doc.users[this.actorName] : undefined;
    if (!u) refuse('USER_NOT_FOUND', `There is no user "${printable(this.actorName)}" in tenant ${doc.tenant.name}; a tenant admin can add you with \`keyward users add ${printable(this.actorName)}\`.`);
    return u;
  }

  private userIn(doc: StoreDocument, name: string): User {
    const u = typeof name === 'string' && Object.hasOwn(doc.users, name) ? doc.users[name] : undefined;
    if (!u) refuse('USER_NOT_FOUND', `There is no user "${printable(textOf(name))}" in this tenant.`);
    return u;
  }

  /** Runs a change as the actor: fresh document, actor resolved inside the lock. */
  private change<T>(fn: (doc: StoreDocument, actor: User, emit: (e: KeywardEvent) => void, now: number) => T): Promise<T> {
    return this.engine.store
      .transact((doc, tx) => {
        const actor = this.actorIn(doc);
        return fn(doc, actor, (e) => tx.emit(e), this.now);
      })
      .then((r) => {
        this.engine.bump();
        return r;
      });
  }

  private async view(doc: StoreDocument, key: ApiKey): Promise<KeyView> {
    const lastUsed = await this.engine.lastUsed();
    return keyView(key, doc.tenant.id, this.now, lastUsed(key.id));
  }

  async whoami(): Promise<WhoAmI> {
    const doc = await this.doc();
    const actor = this.actorIn(doc);
    const check = checkGenerate({ actor, owner: actor, settings: doc.tenant.settings, activeKeys: this.engine.activeKeysOf(doc, actor.id) });
    return {
      user: userView(actor),
      tenant: { id: doc.tenant.id, name: doc.tenant.name },
      settings: settingsView(doc.tenant.settings),
      location: this.engine.store.location,
      canGenerate: check.ok ? { ok: true } : { ok: false, code: check.refusal.code, message: check.refusal.message },
    };
  }

  async getSettings(): Promise<SettingsView> {
    const doc = await this.doc();
    this.actorIn(doc);
    return settingsView(doc.tenant.settings);
  }

  async updateSettings(patch: SettingsPatch): Promise<SettingsView> {
    if (!patch || typeof patch !== 'object' || Array.isArray(patch)) refuse('INVALID_SETTING', 'Settings must be given as fields and values.');
    const mapped: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(patch)) {
      if (v === undefined) continue;
      const field = Object.hasOwn(SETTING_FIELDS, k) ? SETTING_FIELDS[k as keyof SettingsView] : undefined;
      if (!field) refuse('INVALID_SETTING', `"${printable(k)}" is not a setting; use ${Object.keys(SETTING_FIELDS).join(', ')}.`);
      mapped[field] = v;
    }
    if (typeof mapped.maxKeyLifetime === 'string') mapped.maxKeyLifetime = mapped.maxKeyLifetime.trim();
    return this.change((doc, actor, emit, now) => {
      enforce(checkAdmin(actor));
      enforce(checkSettings(mapped));
      const before = doc.tenant.settings;
      const after: Settings = { ...before, ...(mapped as Partial<Settings>) };
      // Keep the canonical ISO text (30d becomes P30D) of a lifetime being set.
      if (typeof mapped.maxKeyLifetime === 'string') after.maxKeyLifetime = parseDuration(mapped.maxKeyLifetime)!.iso;
      const changes: Record<string, { from: unknown; to: unknown }> = {};
      for (const [wire, field] of Object.entries(SETTING_FIELDS)) {
        if (before[field] !== after[field]) changes[wire] = { from: before[field], to: after[field] };
      }
      doc.tenant.settings = after;
      if (Object.keys(changes).length > 0) emit(newEvent('api-keys-config.updated', now, actor.id, undefined, { changes }));
      return settingsView(after);
    });
  }

  async listUsers() {
    const doc = await this.doc();
    enforce(checkAdmin(this.actorIn(doc)));
    return Object.values(doc.users)
      .sort((a, b) => (a.id < b.id ? -1 : 1))
      .map(userView);
  }

  async addUser(name: string, opts: { licence?: boolean } = {}) {
    enforce(checkUserName(name));
    return this.change((doc, actor, emit, now) => {
      enforce(checkAdmin(actor));
      if (Object.hasOwn(doc.users, name)) refuse('INVALID_INPUT', `There is already a user "${name}".`);
      const u: User = { id: name, licence: opts.licence === true, roles: [], created: new Date(now).toISOString() };
      doc.users[name] = u;
      emit(newEvent('user.added', now, actor.id, undefined, { user: name, licence: u.licence, roles: [] }));
      return userView(u);
    });
  }

  async updateUser(name: string, patch: UserPatch) {
    for (const [k, v] of Object.entries(patch ?? {})) {
      if (!['licence', 'developer', 'admin'].includes(k)) refuse('INVALID_INPUT', `"${printable(k)}" cannot be changed on a user; use licence, developer or admin.`);
      if (v !== undefined && typeof v !== 'boolean') refuse('INVALID_INPUT', `${k} must be on or off.`);
    }
    return this.change((doc, actor, emit, now) => {
      enforce(checkAdmin(actor));
      const u = this.userIn(doc, name);
      const before = { licence: u.licence, roles: [...u.roles] };
      const roles = new Set(u.roles);
      if (patch.developer !== undefined) patch.developer ? roles.add('Developer') : roles.delete('Developer');
      if (patch.admin !== undefined) patch.admin ? roles.add('TenantAdmin') : roles.delete('TenantAdmin');
      if (!roles.has('TenantAdmin') && isAdmin(u)) {
        const admins = Object.values(doc.users).filter(isAdmin).length;
        if (admins <= 1) refuse('INVALID_INPUT', `${name} is the tenant's only admin; make someone else an admin first.`);
      }
      const next: User = { ...u, licence: patch.licence ?? u.licence, roles: (['TenantAdmin', 'Developer'] as const).filter((r) => roles.has(r)) };
      const after = { licence: next.licence, roles: next.roles };
      if (JSON.stringify(before) !== JSON.stringify(after)) {
        doc.users[name] = next;
        emit(newEvent('user.updated', now, actor.id, undefined, { user: name, from: before, to: after }));
      }
      return userView(next);
    });
  }

  async listKeys(q: KeyQuery = {}): Promise<Page<KeyView>> {
    const doc = await this.doc();
    const actor = this.actorIn(doc);
    if (q.sub !== undefined && isAdmin(actor)) this.userIn(doc, q.sub);
    const limit = clampLimit(q.limit, 20, 100_000);
    const rows = this.engine.keysMatching(doc, q, isAdmin(actor) ? undefined : actor.id);
    const page = pageOf(rows, q, limit, (k) => k.id);
    const lastUsed = await this.engine.lastUsed();
    const now = this.now;
    return { ...page, data: page.data.map((k) => keyView(k, doc.tenant.id, now, lastUsed(k.id))) };
  }

  async getKey(id: string) {
    checkKeyId(id);
    const doc = await this.doc();
    const actor = this.actorIn(doc);
    const key = Object.hasOwn(doc.keys, id) ? doc.keys[id] : undefined;
    if (!key || !canSeeKey(actor, key)) refuse('KEY_NOT_FOUND', `No key ${id}.`);
    return this.view(doc, key);
  }

  async generateKey(input: GenerateInput) {
    if (!input || typeof input !== 'object') refuse('INVALID_INPUT', 'Give a description (and optionally an expiry).');
    enforce(checkDescription(input.description));
    if (input.expiry !== undefined && typeof input.expiry !== 'string') refuse('INVALID_EXPIRY', 'The expiry must be an ISO 8601 duration such as P30D.');
    if (input.sub !== undefined && typeof input.sub !== 'string') refuse('INVALID_INPUT', 'sub must be a user name.');
    const description = input.description.trim();
    return this.change((doc, actor, emit, now) => {
      const owner = input.sub === undefined ? actor : this.userIn(doc, input.sub);
      const check = checkGenerate({ actor, owner, settings: doc.tenant.settings, activeKeys: activeKeysOf(doc, owner.id, now), lifetime: input.expiry });
      if (!check.ok) throw new KeywardError(check.refusal.code, check.refusal.message);
      let id = newKeyId();
      while (Object.hasOwn(doc.keys, id)) id = newKeyId();
      const token = newToken(id);
      const iso = new Date(now).toISOString();
      const key: ApiKey = {
        id,
        description,
        owner: owner.id,
        createdBy: actor.id,
        created: iso,
        lastUpdated: iso,
        expiry: new Date(now + check.lifetime.ms).toISOString(),
        hash: hashToken(token),
      };
      doc.keys[id] = key;
      emit(newEvent('api-key.generated', now, actor.id, id, { description, sub: owner.id, expiry: key.expiry, lifetime: check.lifetime.iso }));
      return { ...keyView(key, doc.tenant.id, now), token };
    });
  }

  async renameKey(id: string, description: string) {
    checkKeyId(id);
    enforce(checkDescription(description));
    const text = description.trim();
    const key = await this.change((doc, actor, emit, now) => {
      const key = Object.hasOwn(doc.keys, id) ? doc.keys[id] : undefined;
      enforce(checkOwnerChange(actor, key, 'rename'));
      const k = key!;
      if (k.description !== text) {
        emit(newEvent('api-key.renamed', now, actor.id, id, { from: k.description, to: text }));
        k.description = text;
        k.lastUpdated = new Date(now).toISOString();
      }
      return k;
    });
    return this.view((await this.engine.store.read())!, key);
  }

  async revokeKey(id: string) {
    checkKeyId(id);
    const key = await this.change((doc, actor, emit, now) => {
      const key = Object.hasOwn(doc.keys, id) ? doc.keys[id] : undefined;
      enforce(checkRevoke(actor, key, now));
      revoke(key!, actor, emit, now);
      return key!;
    });
    return this.view((await this.engine.store.read())!, key);
  }

  async revokeKeys(ids: string[]): Promise<RevokeReport> {
    if (!Array.isArray(ids) || ids.length === 0) refuse('INVALID_INPUT', 'Name at least one key to revoke.');
    const unique = [...new Set(ids)];
    const revoked = await this.change((doc, actor, emit, now) => {
      enforce(checkAdmin(actor));
      const done: ApiKey[] = [];
      const skipped: RevokeReport['skipped'] = [];
      for (const id of unique) {
        if (typeof id !== 'string' || !KEY_ID_PATTERN.test(id)) {
          skipped.push({ id: textOf(id), code: 'INVALID_INPUT', message: 'Not a key id.' });
          continue;
        }
        const key = Object.hasOwn(doc.keys, id) ? doc.keys[id] : undefined;
        const r = checkRevoke(actor, key, now);
        if (r) skipped.push({ id, code: r.code, message: r.message });
        else {
          revoke(key!, actor, emit, now);
          done.push(key!);
        }
      }
      return { done, skipped };
    });
    const doc = (await this.engine.store.read())!;
    const lastUsed = await this.engine.lastUsed();
    return { revoked: revoked.done.map((k) => keyView(k, doc.tenant.id, this.now, lastUsed(k.id))), skipped: revoked.skipped };
  }

  async deleteKey(id: string) {
    checkKeyId(id);
    await this.change((doc, actor, emit, now) => {
      const key = Object.hasOwn(doc.keys, id) ? doc.keys[id] : undefined;
      enforce(checkOwnerChange(actor, key, 'delete'));
      delete doc.keys[id];
      emit(newEvent('api-key.deleted', now, actor.id, id, { description: key!.description, sub: key!.owner }));
    });
  }

  async deleteAllKeys() {
    return this.change((doc, actor, emit, now) => {
      const mine = Object.values(doc.keys).filter((k) => k.owner === actor.id);
      if (mine.length > 0) enforce(checkOwnerChange(actor, mine[0], 'delete'));
      for (const k of mine) {
        delete doc.keys[k.id];
        emit(newEvent('api-key.deleted', now, actor.id, k.id, { description: k.description, sub: k.owner, all: true }));
      }
      return { deleted: mine.length };
    });
  }

  async verifyToken(token: string): Promise<VerifyResult> {
    const out = this.engine.verify(token);
    if (!out.valid) return { valid: false, code: 'UNAUTHENTICATED', reason: out.reason };
    const doc = this.engine.store.peek()!;
    return { valid: true, key: await this.view(doc, out.key) };
  }

  async listEvents(q: EventQuery = {}): Promise<Page<EventView>> {
    const doc = await this.doc();
    enforce(checkAdmin(this.actorIn(doc)));
    if (q.keyId !== undefined) checkKeyId(q.keyId);
    return queryEvents(await this.engine.store.events(), q, this.now);
  }

  async usage(q: { since?: string } = {}): Promise<UsageRow[]> {
    const doc = await this.doc();
    enforce(checkAdmin(this.actorIn(doc)));
    const now = this.now;
    const since = q.since === undefined ? undefined : new Date(parseSince(q.since, now)).toISOString();
    const uses = new Map<string, number>();
    const excessive = new Set<string>();
    const meta = new Map<string, { description: string; sub: string }>();
    for (const e of await this.engine.store.events()) {
      if (since && e.eventTime < since) continue;
      if (!e.keyId) continue;
      if (e.eventType === 'api-key.used') uses.set(e.keyId, (uses.get(e.keyId) ?? 0) + (Number(e.data.uses) || 0));
      else if (e.eventType === 'api-key.excessive-use') excessive.add(e.keyId);
      else if (e.eventType === 'api-key.generated' || e.eventType === 'api-key.deleted') {
        meta.set(e.keyId, { description: String(e.data.description ?? ''), sub: String(e.data.sub ?? '') });
      }
    }
    const lastUsed = await this.engine.lastUsed();
    const rows: UsageRow[] = [];
    const ids = new Set([...uses.keys(), ...excessive]);
    for (const id in doc.keys) if (this.engine.pendingUses(id) > 0) ids.add(id);
    for (const keyId of ids) {
      const key = doc.keys[keyId];
      const m = key ? { description: key.description, sub: key.owner } : (meta.get(keyId) ?? { description: '', sub: '' });
      rows.push({
        keyId,
        description: m.description,
        sub: m.sub,
        status: key ? statusOf(key, now) : 'deleted',
        uses: (uses.get(keyId) ?? 0) + this.engine.pendingUses(keyId),
        lastUsed: lastUsed(keyId) ?? null,
        excessive: excessive.has(keyId),
      });
    }
    return rows.sort((a, b) => b.uses - a.uses || (a.keyId < b.keyId ? -1 : 1));
  }

  close(): Promise<void> {
    return this.engine.close();
  }
}

function revoke(key: ApiKey, actor: User, emit: (e: KeywardEvent) => void, now: number): void {
  const iso = new Date(now).toISOString();
  key.revokedAt = iso;
  key.revokedBy = actor.id;
  key.lastUpdated = iso;
  emit(newEvent('api-key.revoked', now, actor.id, key.id, { description: key.description, sub: key.owner }));
}

export function createEngine(store: Store, opts?: EngineOptions): Engine {
  return new Engine(store, opts);
}

/** The KeyService for one actor on a local store; closing it flushes usage. */
export function createLocalService(store: Store, opts: EngineOptions & { actor: string }): KeyService {
  return createEngine(store, opts).as(opts.actor);
}
