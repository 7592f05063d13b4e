// What every use case needs for one actor: the store, the clock, the usage
// pipeline, and the two ways in — a read (actor resolved from the store as it
// is) and a change (one transaction: actor resolved, rules checked and
// records written under the store's lock, events committed with them).

import { type ApiKey, type Tenant, type User, isAdmin } from '../domain.js';
import type { Clock } from '../clock.js';
import { printable, textOf } from '../duration.js';
import { refuse } from '../refusal.js';
import type { StoreReads, Store, TransactHow, Transaction } from '../store/boundary.js';
import { isKeyId } from '../token.js';
import type { UsagePipeline } from '../usage-pipeline.js';
import { type GeneratedKey, type KeyView, keyViewsFor } from '../views.js';
import type { KeyTexts } from '../wire/key-texts.js';
import type { Batches } from './create-batches.js';
import type { KeyWanted } from './keys.js';

/** The parts of an engine the use cases share. */
export interface EngineParts {
  readonly store: Store;
  readonly clock: Clock;
  readonly usage: UsagePipeline;
  /** List pages' key texts, per viewer and key (wire/key-texts.ts). */
  readonly keyTexts: KeyTexts;
  /** Creates waiting for an earlier one of the same actor and owner, to go together (create-batches.ts). */
  readonly keyCreates: Batches<KeyWanted, GeneratedKey>;
}

export interface Reading {
  tenant: Tenant;
  actor: User;
  now: number;
}

export interface Changing extends Reading {
  tx: Transaction;
}

export class ActorContext {
  constructor(
    readonly engine: EngineParts,
    readonly actorName: string,
  ) {}

  get store(): Store {
    return this.engine.store;
  }

  get now(): number {
    return this.engine.clock.now();
  }

  /** The tenant and the actor as the store holds them now. */
  async read(): Promise<Reading> {
    return this.resolve(this.store, this.now);
  }

  /**
   * The tenant and the actor for a question anyone holding a token may ask
   * (verify): an actor who is no user of the tenant is someone without a
   * licence or roles, whom the views offer no action.
   */
  async readAsAnyone(): Promise<Reading> {
    const [tenant, actor] = await Promise.all([this.store.tenant(), this.store.getUser(this.actorName)]);
    if (!tenant) refuse('UNAVAILABLE', `There is no Keyward store at ${this.store.location}.`);
    return { tenant, actor: actor ?? { id: this.actorName, licence: false, roles: [], created: '' }, now: this.now };
  }

  /**
   * Runs a change as the actor in one transaction; `fn` refuses before it
   * writes anything. `ask`, when given, sends the change's own first
   * questions right behind the tenant's and the actor's, before their
   * answers are in: a store that pipelines its statements (PostgreSQL)
   * answers them all in one round trip. `fn` gets what it asked. `how`
   * says how the store may run it (boundary.ts TransactHow).
   */
  change<T, A = undefined>(fn: (c: Changing, asked: NoInfer<A>) => Promise<T> | T, ask?: (tx: Transaction, now: number) => Promise<A>, how?: TransactHow): Promise<T> {
    return this.store.transact(async (tx) => {
      const now = this.now;
      const resolving = this.resolve(tx, now);
      const asking = ask?.(tx, now);
      // Unknown actor or tenant: resolve's refusal is the one to give.
      asking?.catch(() => undefined);
      const reading = await resolving;
      return fn({ ...reading, tx }, (await asking) as A);
    }, how);
  }

  /** A user of the tenant, or USER_NOT_FOUND. */
  async userIn(reads: StoreReads, name: unknown): Promise<User> {
    const u = typeof name === 'string' ? await reads.getUser(name) : undefined;
    if (!u) refuse('USER_NOT_FOUND', `There is no user "${printable(textOf(name))}" in this tenant.`);
    return u;
  }

  /** Keys as on the wire for this actor, with their last use from the usage aggregates. */
  async views(keys: readonly ApiKey[], tenant: Tenant, actor: User): Promise<KeyView[]> {
    const used = await this.engine.usage.lastUsedOf(keys.map((k) => k.id));
    const viewOf = keyViewsFor({ actor, tenant, now: this.now });
    return keys.map((k) => viewOf(k, used.get(k.id)));
  }

  /** The same views as JSON text, each made again only when what it is made of changed (wire/key-texts.ts). */
  async viewTexts(keys: readonly ApiKey[], tenant: Tenant, actor: User): Promise<string[]> {
    const used = await this.engine.usage.lastUsedOf(keys.map((k) => k.id));
    const viewer = { actor, tenant, now: this.now };
    const viewOf = keyViewsFor(viewer);
    return keys.map((k) => this.engine.keyTexts.text(k, viewer, used.get(k.id), viewOf));
  }

  async view(key: ApiKey, tenant: Tenant, actor: User): Promise<KeyView> {
    return (await this.views([key], tenant, actor))[0];
  }

  private async resolve(reads: StoreReads, now: number): Promise<Reading> {
    const [tenant, actor] = await Promise.all([reads.tenant(), reads.getUser(this.actorName)]);
    if (!tenant) refuse('UNAVAILABLE', `There is no Keyward store at ${this.store.location}; run \`keyward init\` to create one.`);
    if (!actor) {
      // Name an admin, so the suggested command runs as printed (not as the user who is missing).
      const admin = (await reads.listUsers()).find(isAdmin);
      const as = admin ? `--as ${printable(admin.id)} ` : '';
      refuse('USER_NOT_FOUND', `There is no user "${printable(this.actorName)}" in tenant ${tenant.name}; a tenant admin can add you: \`keyward ${as}users add ${printable(this.actorName)} --licence\`, or act as a user who exists with --as USER.`);
    }
    return { tenant, actor, now };
  }
}

export function checkKeyId(id: unknown): string {
  if (!isKeyId(id)) refuse('INVALID_INPUT', `"${printable(textOf(id))}" is not a key id (24 hexadecimal characters).`);
  return id;
}

/**
 * The id of a key to act on. A client cannot know Keyward's id format (Qlik's
 * own client expects 404 for any id that names no key), so an id of another
 * shape is answered like an unknown one: KEY_NOT_FOUND (behaviour §3).
 */
export function keyIdToFind(id: unknown): string {
  if (!isKeyId(id)) refuse('KEY_NOT_FOUND', `No key "${printable(textOf(id))}".`);
  return id;
}
