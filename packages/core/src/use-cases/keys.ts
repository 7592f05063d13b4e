// Keys (behaviour §2): list and search, get, generate, rename, revoke (one or
// many), delete (one or all of mine). Every change is one transaction that
// reads, checks and writes single records; the key limit locks the owner's
// row first, so two servers cannot both pass it.

import { type ApiKey, type Tenant, type User, isAdmin, settingsOf } from '../domain.js';
import { printable, textOf } from '../duration.js';
import { clampLimit, newEvent } from '../events.js';
import { checkStatus, parseSort } from '../key-query.js';
import { canSeeKey, checkAdmin, checkDeleteOrRevoke, checkDescription, checkGenerate, checkOwnerChange, checkRevoke, checkRotate, enforce } from '../policy.js';
import { KeywardError, refuse } from '../refusal.js';
import type { GenerateInput, KeyQuery, Page, RevokeReport } from '../service.js';
import type { Transaction } from '../store/boundary.js';
import { keysInIdOrder } from '../store/lock-order.js';
import { hashToken, isKeyId, newKeyId, newToken } from '../token.js';
import { type GeneratedKey, type KeyView, keyView } from '../views.js';
import { type ActorContext, keyIdToFind } from './context.js';

export async function listKeys(c: ActorContext, q: KeyQuery = {}): Promise<Page<KeyView>> {
  const { page, tenant, actor } = await findPage(c, q);
  return { ...page, data: await c.views(page.data, tenant, actor) };
}

/** listKeys's page with each key as its JSON text (for the server's GET /api/v1/api-keys). */
export async function listKeyTexts(c: ActorContext, q: KeyQuery = {}): Promise<Page<string>> {
  const { page, tenant, actor } = await findPage(c, q);
  return { ...page, data: await c.viewTexts(page.data, tenant, actor) };
}

/** The keys of a list page the actor may see, with the page's total and cursors (the views are the caller's). */
async function findPage(c: ActorContext, q: KeyQuery): Promise<{ page: Page<ApiKey>; tenant: Tenant; actor: User }> {
  const { tenant, actor, now } = await c.read();
  if (q.sub !== undefined && isAdmin(actor)) await c.userIn(c.store, q.sub);
  const limit = clampLimit(q.limit, 20, 100_000);
  const status = checkStatus(q.status);
  const sort = parseSort(q.sort);
  if (q.startingAfter && q.endingBefore) refuse('INVALID_INPUT', 'Use startingAfter or endingBefore, not both.');
  // Non-admins see only their own keys, whatever owner they ask for.
  const owner = isAdmin(actor) ? (q.sub || undefined) : actor.id;
  if (!isAdmin(actor) && q.sub && q.sub !== actor.id) return { page: { data: [], total: 0 }, tenant, actor };
  const found = await c.store.findKeys({
    status,
    owner,
    createdBy: q.createdByUser || undefined,
    search: q.search,
    order: sort.field,
    descending: sort.descending,
    limit,
    startingAfter: q.startingAfter || undefined,
    endingBefore: q.endingBefore || undefined,
    offset: q.offset,
    now,
  });
  const page: Page<ApiKey> = { data: found.data, total: found.total };
  if (found.hasNext && found.data.length > 0) page.next = found.data[found.data.length - 1].id;
  if (found.hasPrev && found.data.length > 0) page.prev = found.data[0].id;
  return { page, tenant, actor };
}

export async function getKey(c: ActorContext, id: string): Promise<KeyView> {
  keyIdToFind(id);
  const { tenant, actor } = await c.read();
  const key = await c.store.getKey(id);
  if (!key || !canSeeKey(actor, key)) refuse('KEY_NOT_FOUND', `No key ${id}.`);
  return c.view(key, tenant, actor);
}

export async function generateKey(c: ActorContext, input: GenerateInput): Promise<GeneratedKey> {
  if (!input || typeof input !== 'object') refuse('INVALID_INPUT', 'Give a description (and optionally an expiry).');
  enforce(checkDescription(input.description));
  if (input.expiry !== undefined && typeof input.expiry !== 'string') refuse('INVALID_EXPIRY', 'The expiry must be an ISO 8601 duration such as P30D.');
  if (input.sub !== undefined && typeof input.sub !== 'string') refuse('INVALID_INPUT', 'sub must be a user name.');
  const wanted = { description: input.description.trim(), expiry: input.expiry };
  // One actor's creates for one owner that queue behind each other go together
  // (create-batches.ts), unless the store decides transactions in turn: it
  // counts a burst's earlier keys itself (a commit group), so none waits.
  const group = c.store.decidesInTurn ? undefined : `${c.actorName}\n${input.sub === undefined ? '' : `sub ${input.sub}`}`;
  return c.engine.keyCreates.submit(group, wanted, (batch) => generateKeys(c, input.sub, batch));
}

/**
 * Keys for one owner in one transaction, each checked on its own against
 * the owner's active count with the ones before it counted: one refused
 * (the limit reached) is answered with its refusal, the others are made.
 */
function generateKeys(c: ActorContext, sub: string | undefined, batch: readonly KeyWanted[]): Promise<(GeneratedKey | KeywardError)[]> {
  const ownerName = sub ?? c.actorName;
  return c.change(
    async ({ tx, tenant, actor, now }, [named, , activeKeys, ids]) => {
      const owner = sub === undefined ? actor : (named ?? (await c.userIn(tx, sub)));
      let active = activeKeys;
      return batch.map(({ description, expiry }, i) => {
        const check = checkGenerate({ actor, owner, settings: settingsOf(tenant), activeKeys: active, lifetime: expiry });
        if (!check.ok) return new KeywardError(check.refusal.code, check.refusal.message);
        active++;
        const { key, token } = mint(tx, ids[i], { description, owner: owner.id, createdBy: actor.id }, now, check.lifetime.ms);
        tx.emit(newEvent('api-key.generated', now, actor.id, key.id, { description, sub: owner.id, expiry: key.expiry, lifetime: check.lifetime.iso }));
        return { ...keyView(key, { actor, tenant, now }), token };
      });
    },
    // The limit's questions, asked with the tenant and the actor. The owner's
    // row is locked before the count is sent (a concurrent create for the same
    // owner waits), so the count is the one the limit holds to.
    (tx: Transaction, now: number) => Promise.all([sub === undefined ? undefined : tx.getUser(sub), tx.lockUser(ownerName), tx.countActiveKeys(ownerName, now), freshKeyIds(tx, batch.length)]),
    // Those answers are usually what the store saw last (the settings, the
    // actor, the owner's count after this server's last create for them):
    // decided on those and checked at commit, a create costs one round trip.
    { onWhatWasSeen: true },
  );
}

/** What one create asks for, once its input is checked. */
export interface KeyWanted {
  description: string;
  expiry?: string;
}

/** `n` key ids no key has yet, all different. */
async function freshKeyIds(tx: Transaction, n: number): Promise<string[]> {
  const ids = await Promise.all(Array.from({ length: n }, () => freshKeyId(tx)));
  return new Set(ids).size === ids.length ? ids : freshKeyIds(tx, n);
}

/** A key id no key has yet. */
async function freshKeyId(tx: Transaction): Promise<string> {
  let id = newKeyId();
  while (await tx.getKey(id)) id = newKeyId();
  return id;
}

/** A new key with a fresh token (shown once; only its hash is kept), written in the transaction. */
function mint(tx: Transaction, id: string, fields: Pick<ApiKey, 'description' | 'owner' | 'createdBy' | 'rotatedFrom'>, now: number, lifetimeMs: number): { key: ApiKey; token: string } {
  const token = newToken(id);
  const iso = new Date(now).toISOString();
  const key: ApiKey = { id, ...fields, created: iso, lastUpdated: iso, expiry: new Date(now + lifetimeMs).toISOString(), hash: hashToken(token) };
  if (key.rotatedFrom === undefined) delete key.rotatedFrom;
  tx.putKey(key);
  return { key, token };
}

/**
 * Rotation (behaviour §1): a new key B with the same owner and description and a
 * fresh token, while the old key A keeps working for the overlap (never past
 * its own expiry), then only B. A and B name each other. Generating's rules
 * apply to B, except that A, about to end, does not count against the limit.
 */
export async function rotateKey(c: ActorContext, id: string, overlap?: string): Promise<GeneratedKey> {
  keyIdToFind(id);
  return c.change(async ({ tx, tenant, actor, now }) => {
    const old = await tx.getKey(id);
    const rotate = checkRotate(actor, old, now, overlap);
    if (!rotate.ok) throw new KeywardError(rotate.refusal.code, rotate.refusal.message);
    await tx.lockUser(actor.id);
    const [active, newId] = await Promise.all([tx.countActiveKeys(actor.id, now), freshKeyId(tx)]);
    const check = checkGenerate({ actor, owner: actor, settings: settingsOf(tenant), activeKeys: active - 1 });
    if (!check.ok) throw new KeywardError(check.refusal.code, check.refusal.message);
    const a = old!;
    const { key, token } = mint(tx, newId, { description: a.description, owner: a.owner, createdBy: actor.id, rotatedFrom: a.id }, now, check.lifetime.ms);
    const oldExpiry = new Date(Math.min(now + rotate.overlapMs, Date.parse(a.expiry))).toISOString();
    tx.putKey({ ...a, expiry: oldExpiry, rotatedTo: key.id, lastUpdated: new Date(now).toISOString() });
    tx.emit(newEvent('api-key.generated', now, actor.id, key.id, { description: key.description, sub: key.owner, expiry: key.expiry, lifetime: check.lifetime.iso, rotatedFrom: a.id }));
    tx.emit(newEvent('api-key.rotated', now, actor.id, a.id, { description: a.description, sub: a.owner, rotatedTo: key.id, oldExpiry, overlap: new Date(oldExpiry).getTime() - now }));
    return { ...keyView(key, { actor, tenant, now }), token };
  });
}

export async function renameKey(c: ActorContext, id: string, description: string): Promise<KeyView> {
  keyIdToFind(id);
  enforce(checkDescription(description));
  const text = description.trim();
  const { key, tenant, actor } = await c.change(async ({ tx, tenant, actor, now }) => {
    const key = await tx.getKey(id);
    enforce(checkOwnerChange(actor, key, 'rename'));
    if (key!.description === text) return { key: key!, tenant, actor };
    const next: ApiKey = { ...key!, description: text, lastUpdated: new Date(now).toISOString() };
    tx.putKey(next);
    tx.emit(newEvent('api-key.renamed', now, actor.id, id, { from: key!.description, to: text }));
    return { key: next, tenant, actor };
  });
  return c.view(key, tenant, actor);
}

function revoke(tx: Transaction, key: ApiKey, actor: User, now: number): ApiKey {
  const iso = new Date(now).toISOString();
  const next: ApiKey = { ...key, revokedAt: iso, revokedBy: actor.id, lastUpdated: iso };
  tx.putKey(next);
  tx.emit(newEvent('api-key.revoked', now, actor.id, key.id, { description: key.description, sub: key.owner }));
  return next;
}

export async function revokeKey(c: ActorContext, id: string): Promise<KeyView> {
  keyIdToFind(id);
  const { key, tenant, actor } = await c.change(async ({ tx, tenant, actor, now }) => {
    const key = await tx.getKey(id);
    enforce(checkRevoke(actor, key, now));
    return { key: revoke(tx, key!, actor, now), tenant, actor };
  });
  return c.view(key, tenant, actor);
}

export async function revokeKeys(c: ActorContext, ids: string[]): Promise<RevokeReport> {
  if (!Array.isArray(ids) || ids.length === 0) refuse('INVALID_INPUT', 'Name at least one key to revoke.');
  const unique = [...new Set(ids)];
  const { done, skipped, tenant, actor } = await c.change(async ({ tx, tenant, actor, now }) => {
    enforce(checkAdmin(actor));
    const done: ApiKey[] = [];
    const skipped: RevokeReport['skipped'] = [];
    // Read in id order whatever the order named (lock-order.ts); answered in the order named.
    const keys = await keysInIdOrder(tx, unique.filter(isKeyId));
    for (const id of unique) {
      if (!isKeyId(id)) {
        // Echoed back as given, but never a token pasted in by mistake.
        skipped.push({ id: printable(textOf(id), 100), code: 'KEY_NOT_FOUND', message: 'No such key.' });
        continue;
      }
      const key = keys.get(id);
      const r = checkRevoke(actor, key, now);
      if (r) skipped.push({ id, code: r.code, message: r.message });
      else done.push(revoke(tx, key!, actor, now));
    }
    return { done, skipped, tenant, actor };
  });
  return { revoked: await c.views(done, tenant, actor), skipped };
}

export async function deleteKey(c: ActorContext, id: string): Promise<void> {
  keyIdToFind(id);
  await c.change(async ({ tx, actor, now }) => {
    const key = await tx.getKey(id);
    enforce(checkOwnerChange(actor, key, 'delete'));
    remove(tx, key!, actor, now);
  });
}

function remove(tx: Transaction, key: ApiKey, actor: User, now: number): void {
  tx.deleteKey(key.id);
  tx.emit(newEvent('api-key.deleted', now, actor.id, key.id, { description: key.description, sub: key.owner }));
}

/** Qlik's DELETE (policy's checkDeleteOrRevoke): the owner deletes, an admin revokes someone else's key — decided and done in one transaction. */
export async function deleteOrRevokeKey(c: ActorContext, id: string): Promise<void> {
  keyIdToFind(id);
  await c.change(async ({ tx, actor, now }) => {
    const key = await tx.getKey(id);
    const r = checkDeleteOrRevoke(actor, key, now);
    if (!r.ok) throw new KeywardError(r.refusal.code, r.refusal.message);
    if (r.action === 'revoke') revoke(tx, key!, actor, now);
    else remove(tx, key!, actor, now);
  });
}

export async function deleteAllKeys(c: ActorContext): Promise<{ deleted: number }> {
  return c.change(async ({ tx, actor, now }) => {
    const mine = await tx.keysOf(actor.id);
    if (mine.length > 0) enforce(checkOwnerChange(actor, mine[0], 'delete'));
    for (const k of mine) {
      tx.deleteKey(k.id);
      tx.emit(newEvent('api-key.deleted', now, actor.id, k.id, { description: k.description, sub: k.owner, all: true }));
    }
    return { deleted: mine.length };
  });
}
