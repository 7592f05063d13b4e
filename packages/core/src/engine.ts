// The engine, split by job (DESIGN.md "core"): the verifier (the hot path and
// its cache), the usage pipeline (counts in memory → aggregates in the store,
// excessive use), the retention sweep, and the use cases by area (keys,
// users, settings, events) in use-cases/. One Engine per process holds what
// every actor shares; `engine.as(user)` is the KeyService for one actor (the
// server makes one per request).

import { randomBytes } from 'node:crypto';
import { type ApiKey, DEFAULT_SETTINGS } from './domain.js';
import { type Clock, systemClock } from './clock.js';
import { newEvent } from './events.js';
import { checkTenantName, checkUserName, enforce } from './policy.js';
import { refuse } from './refusal.js';
import { RetentionSweep } from './retention.js';
import type { EventQuery, GenerateInput, KeyQuery, KeyService, Page, SettingsPatch, UserPatch, VerifyResult } from './service.js';
import type { ClockOffsetReading, Store, StoreGauges } from './store/boundary.js';
import { UsagePipeline } from './usage-pipeline.js';
import { ActorContext, type EngineParts } from './use-cases/context.js';
import { Batches } from './use-cases/create-batches.js';
import type { GeneratedKey } from './views.js';
import * as events from './use-cases/events.js';
import * as keys from './use-cases/keys.js';
import * as keyIds from './use-cases/key-ids.js';
import * as settings from './use-cases/settings.js';
import * as users from './use-cases/users.js';
import { Verifier, type VerifyOutcome } from './verifier.js';
import { KeyTexts } from './wire/key-texts.js';
import { MeTexts } from './wire/me-text.js';

export type { VerifyOutcome } from './verifier.js';

export interface EngineOptions {
  clock?: Clock;
  /** How often counted uses go to the store's usage aggregates; 0: only on flush() and close(). */
  usageFlushMs?: number;
  /** How often events past the tenant's retention are removed; 0: never. Hourly by default. */
  retentionSweepMs?: number;
}

export interface InitOptions {
  tenant?: string;
  admin: string;
  clock?: Clock;
}

/** Creates a store with a tenant and its first admin; false when one exists already. */
export async function initStore(store: Store, opts: InitOptions): Promise<boolean> {
  enforce(checkUserName(opts.admin));
  const tenantName = opts.tenant ?? 'default';
  enforce(checkTenantName(tenantName));
  const now = (opts.clock ?? systemClock).now();
  const iso = new Date(now).toISOString();
  return store.create({
    tenant: { id: randomBytes(8).toString('hex'), name: tenantName, created: iso, settings: { ...DEFAULT_SETTINGS } },
    users: [{ id: opts.admin, licence: true, roles: ['TenantAdmin'], created: iso }],
    events: [newEvent('user.added', now, opts.admin, undefined, { user: opts.admin, licence: true, roles: ['TenantAdmin'], firstAdmin: true })],
  });
}

export interface EngineGauges {
  store: StoreGauges;
  usage: ReturnType<UsagePipeline['gauges']>;
}

export class Engine implements EngineParts {
  readonly clock: Clock;
  readonly usage: UsagePipeline;
  readonly keyCreates = new Batches<keys.KeyWanted, GeneratedKey>();
  private readonly verifier: Verifier;
  private readonly retention: RetentionSweep;
  private readonly meTexts = new MeTexts();
  readonly keyTexts = new KeyTexts();

  constructor(
    readonly store: Store,
    opts: EngineOptions = {},
  ) {
    this.clock = opts.clock ?? systemClock;
    this.usage = new UsagePipeline(store, this.clock, opts.usageFlushMs ?? 5000);
    this.verifier = new Verifier(store, this.usage.recorder, this.clock);
    const every = opts.retentionSweepMs ?? 3_600_000;
    // The first sweep waits a moment: a one-shot command closes before it.
    this.retention = new RetentionSweep(store, this.clock, { everyMs: every, firstAfterMs: Math.min(every, 2000) });
  }

  /** The KeyService for one actor (a user name of the tenant). */
  as(actor: string): KeyService {
    return new ActorService(this, actor);
  }

  /**
   * The hot path: parse, a cache lookup by id, one SHA-256, a constant-time
   * compare, a counter bumped in memory. Synchronous when the key's facts are
   * cached; a promise only when the store must be asked.
   */
  verify(token: string, address?: string): VerifyOutcome | Promise<VerifyOutcome> {
    return this.verifier.verify(token, address);
  }

  /** GET /users/me's body for `actor`, as JSON text: whoami, made again only when what it is made of changed (wire/me-text.ts). */
  async meText(actor: string): Promise<string> {
    const reads = await settings.whoamiReads(new ActorContext(this, actor));
    return this.meTexts.text(reads, () => settings.whoamiFrom(reads, this.store.location));
  }

  /** GET /api/v1/api-keys's page for `actor`, each key as its JSON text (wire/key-texts.ts; pageText joins them). */
  keyPageTexts(actor: string, q?: KeyQuery): Promise<Page<string>> {
    return keys.listKeyTexts(new ActorContext(this, actor), q);
  }

  /**
   * POST /api/v1/api-keys/verify's answer for `actor`, as JSON text: the bytes
   * JSON.stringify gives verifyToken's, the key's view from the key-text cache
   * a list uses (wire/key-texts.ts) instead of built and serialized each time.
   */
  async verifyTokenText(actor: string, token: string, address?: string): Promise<string> {
    const out = await verifiedFor(this, token, address);
    if ('refusal' in out) return JSON.stringify(out.refusal);
    const c = new ActorContext(this, actor);
    const { tenant, actor: viewer } = await c.readAsAnyone();
    const [key] = await c.viewTexts([out.key], tenant, viewer);
    return `{"valid":true,"key":${key}}`;
  }

  /**
   * Settles when this process can answer from its store now, and rejects as
   * a read would (UNAVAILABLE, STORE_CORRUPT) when it cannot: GET
   * /api/v1/health, which a load balancer asks to send requests only to
   * servers that can answer them. The read is the one every request makes
   * (the tenant): on PostgreSQL it costs nothing while the change feed is
   * live (the caches are trusted) and is a round trip once it is not, so a
   * server whose database is gone says so within the feed's bound (1 s).
   */
  async ready(): Promise<void> {
    if (!(await this.store.tenant())) refuse('UNAVAILABLE', `The store at ${this.store.location} holds no tenant.`);
  }

  /** What a server's metrics report of this engine now (`keyward serve --metrics-port`): numbers only. */
  gauges(): EngineGauges {
    return { store: this.store.gauges?.() ?? {}, usage: this.usage.gauges() };
  }

  /**
   * How far this process's clock is from its store's (ms; positive: this one
   * is ahead), where the store keeps a clock of its own (PostgreSQL):
   * undefined where it does not. `keyward serve` warns when it is far.
   */
  async clockOffset(): Promise<ClockOffsetReading | undefined> {
    return this.store.clockOffset?.();
  }

  /** Writes counted uses, failures and excessive-use flags to the store. */
  flush(): Promise<void> {
    return this.usage.flush();
  }

  /** Removes what is past the tenant's retention now (the background sweep does this hourly). */
  sweep(): Promise<void> {
    return this.retention.sweep();
  }

  async close(): Promise<void> {
    this.verifier.close();
    try {
      await this.retention.close();
      await this.usage.close();
    } finally {
      // Closed even when the last flush failed (the store away as the process ends): its pool and files go.
      await this.store.close();
    }
  }
}

/** A token a service asks about (POST /api-keys/verify): its key, or the refusal as verifyToken answers it. */
async function verifiedFor(engine: Engine, token: string, address: string | undefined): Promise<{ key: ApiKey } | { refusal: VerifyResult }> {
  if (address !== undefined && (typeof address !== 'string' || address.length > 100 || /[^\x21-\x7e]/.test(address))) refuse('INVALID_INPUT', 'address must be a client address such as 203.0.113.7 or 2001:db8::1.');
  const out = await engine.verify(token, address);
  return out.valid ? { key: out.key } : { refusal: { valid: false, code: 'UNAUTHENTICATED', reason: out.reason } };
}

/** The use cases for one actor, each in its area's module. */
class ActorService implements KeyService {
  private readonly c: ActorContext;

  constructor(
    private readonly engine: Engine,
    actor: string,
  ) {
    this.c = new ActorContext(engine, actor);
  }

  whoami() {
    return settings.whoami(this.c);
  }
  getSettings() {
    return settings.getSettings(this.c);
  }
  updateSettings(patch: SettingsPatch) {
    return settings.updateSettings(this.c, patch);
  }

  listUsers() {
    return users.listUsers(this.c);
  }
  addUser(name: string, opts?: { licence?: boolean }) {
    return users.addUser(this.c, name, opts);
  }
  updateUser(name: string, patch: UserPatch) {
    return users.updateUser(this.c, name, patch);
  }
  removeUser(name: string) {
    return users.removeUser(this.c, name);
  }

  listKeys(q?: KeyQuery) {
    return keys.listKeys(this.c, q);
  }
  getKey(id: string) {
    return keys.getKey(this.c, id);
  }
  resolveKeyId(idOrPrefix: string) {
    return keyIds.resolveKeyId(this.c, idOrPrefix);
  }
  generateKey(input: GenerateInput) {
    return keys.generateKey(this.c, input);
  }
  renameKey(id: string, description: string) {
    return keys.renameKey(this.c, id, description);
  }
  revokeKey(id: string) {
    return keys.revokeKey(this.c, id);
  }
  revokeKeys(ids: string[]) {
    return keys.revokeKeys(this.c, ids);
  }
  deleteKey(id: string) {
    return keys.deleteKey(this.c, id);
  }
  deleteOrRevokeKey(id: string) {
    return keys.deleteOrRevokeKey(this.c, id);
  }
  rotateKey(id: string, overlap?: string) {
    return keys.rotateKey(this.c, id, overlap);
  }
  deleteAllKeys() {
    return keys.deleteAllKeys(this.c);
  }

  async verifyToken(token: string, address?: string): Promise<VerifyResult> {
    const out = await verifiedFor(this.engine, token, address);
    if ('refusal' in out) return out.refusal;
    // The key as the asking service's user sees it: the actions are theirs, not the token owner's.
    const { tenant, actor } = await this.c.readAsAnyone();
    return { valid: true, key: await this.c.view(out.key, tenant, actor) };
  }

  listEvents(q?: EventQuery) {
    return events.listEvents(this.c, q);
  }
  usage(q?: { since?: string }) {
    return events.usage(this.c, q);
  }

  onStoreChange(listener: () => void): () => void {
    // The store's own change signal, the one the verifier's cache follows; what a change names is for caches, not faces.
    return this.engine.store.onChange(() => listener());
  }

  close(): Promise<void> {
    return this.engine.close();
  }
}

export function createEngine(store: Store, opts?: EngineOptions): Engine {
  return new Engine(store, opts);
}

/** The KeyService for one actor on a local store; closing it flushes usage. */
export function createLocalService(store: Store, opts: EngineOptions & { actor: string }): KeyService {
  return createEngine(store, opts).as(opts.actor);
}
