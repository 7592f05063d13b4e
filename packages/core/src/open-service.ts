// The one place that turns what a person named into the service a face
// holds: a store (a JSON store's path or a postgres:// URL) and who acts, or a
// Keyward server and a token. The command line, the server and the VS Code
// extension all open through here, so a store is looked for, created on a
// first run, or refused when it is not there in one way everywhere.

import type { Tenant } from './domain.js';
import { type Engine, type EngineOptions, type InitOptions, createEngine, initStore } from './engine.js';
import { StoreAway, refuse } from './refusal.js';
import { type RemoteOptions, createRemoteService } from './remote-service.js';
import type { KeyService } from './service.js';
import type { Store } from './store/boundary.js';
import { type StoreOptions, openStore, storeLocation } from './store/open.js';
import { isPostgresUrl } from './store/postgres/url.js';

/** What happens when there is no Keyward store where one was named. */
export type WhenMissing =
  /** The very first run at the default location: create it, with `firstAdmin` as its first tenant admin; `onCreated` is told. */
  | { firstAdmin: string; onCreated?: () => void }
  /** Refused (UNAVAILABLE): "There is no Keyward store at X (from namedBy); advice." */
  | { advice: string; namedBy?: string };

export interface StoreTarget {
  /** A JSON store's path or a postgres:// URL. */
  store: string;
  /** Who acts: the service answers as this user. */
  actor: string;
  missing: WhenMissing;
  engine?: EngineOptions;
}

export interface ServerTarget {
  /** A Keyward server's base URL. */
  server: string;
  /** The token that signs in: it decides who acts, and the server owns its store. */
  token: string;
  onTokenExpiring?: RemoteOptions['onTokenExpiring'];
}

/** The service for one actor: on a store (the rules run in this process) or over HTTP on a server (the server runs them). */
export async function openService(target: StoreTarget | ServerTarget): Promise<KeyService> {
  if ('server' in target) return createRemoteService(target.server, target.token, { onTokenExpiring: target.onTokenExpiring });
  return (await openEngine(target.store, target.missing, target.engine)).as(target.actor);
}

/**
 * The engine over the store at `target`, for a process that acts for many
 * users (the HTTP server). A store that does not parse (STORE_CORRUPT) or a
 * database that cannot be reached (UNAVAILABLE) is refused here, before
 * anything runs on it — unless `away` is given: a database expected back by
 * itself (StoreAway: restarting, not answering, in a failover) then gets its
 * engine anyway, whose every request is UNAVAILABLE until it answers, and
 * `away` is told why. A server started with its database (a host rebooting,
 * a cluster coming up in any order) then serves as soon as that answers,
 * instead of exiting and waiting for its supervisor's next restart.
 */
export async function openEngine(target: string, missing: WhenMissing, opts?: EngineOptions, storeOpts?: StoreOptions, away?: (why: StoreAway) => void): Promise<Engine> {
  const store = await openStore(target, storeOpts);
  try {
    if (!(await store.tenant())) await whenMissing(store, target, missing);
  } catch (e) {
    if (away && e instanceof StoreAway) {
      away(e);
      return createEngine(store, opts);
    }
    await store.close();
    throw e;
  }
  return createEngine(store, opts);
}

async function whenMissing(store: Store, target: string, missing: WhenMissing): Promise<void> {
  if ('firstAdmin' in missing) {
    // Another process may create it meanwhile: then it is simply there.
    if (await initStore(store, { admin: missing.firstAdmin })) missing.onCreated?.();
    return;
  }
  // A database is never created by a read, nor a file at a mistyped path: `keyward init` makes one.
  const where = `${isPostgresUrl(target) ? 'in' : 'at'} ${storeLocation(target)}`;
  refuse('UNAVAILABLE', `There is no Keyward store ${where}${missing.namedBy ? ` (from ${missing.namedBy})` : ''}; ${missing.advice}.`);
}

/**
 * Creates a Keyward store at `target` (a path or a postgres:// URL, whose
 * schema is made here) with a tenant and its first admin; undefined when a
 * store is there already, which is left as it is.
 */
export async function initStoreAt(target: string, opts: InitOptions): Promise<Tenant | undefined> {
  const store = await openStore(target);
  try {
    return (await initStore(store, opts)) ? await store.tenant() : undefined;
  } finally {
    await store.close();
  }
}
