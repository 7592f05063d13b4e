// Keeps every view current without a Refresh click: a store's changes are
// seen at once, a JSON store's through a directory watch, a database's as its
// service tells them (LISTEN/NOTIFY); a server, and the passing of time (keys
// expire on their own), are seen by polling what the views show.

import { type KeyService, type WhoAmI, followStoreChanges, isPostgresUrl } from '@keyward/core';
import type { Session, SessionState } from './session.js';
import { poll, watchStore } from './store-watch.js';

/** What the views show, condensed: when it changes, they redraw. */
export async function viewFingerprint(service: KeyService, me: WhoAmI): Promise<string> {
  const first = { sort: '-created', limit: 100 } as const;
  const mine = await service.listKeys({ ...first, sub: me.user.id });
  const all = me.may.seeAllKeys.ok ? await service.listKeys(first) : mine;
  const row = (k: { id: string; status: string; description: string; lastUsed?: string; lastUpdated: string }) => [k.id, k.status, k.description, k.lastUsed ?? '', k.lastUpdated];
  return JSON.stringify([me.user, me.settings, me.canGenerate, me.may, mine.total, mine.data.map(row), all.total, all.data.map(row)]);
}

export interface LiveRefreshOptions {
  session: Session;
  everyMs: () => number;
  /** Re-reads everything and redraws the views. */
  reload: () => Promise<unknown>;
}

export function startLiveRefresh(o: LiveRefreshOptions): { dispose(): void } {
  let watchedPath: string | undefined;
  let watcher: { dispose(): void } | undefined;
  let followed: KeyService | undefined;
  let follower: { dispose(): void } | undefined;
  let last: string | undefined;

  // One look at a time: a database's change and the poll's tick may come together.
  let looking = Promise.resolve();
  const serially = (look: () => Promise<void>) => (looking = looking.then(look).catch(() => undefined));

  /**
   * Reloads when what the views show is not what was seen last. Never seen
   * (the poll's first tick) is taken as unchanged by the poll, which only
   * begins counting, and as changed after a store said it changed.
   */
  const look = async (unseenIsChanged: boolean) => {
    const ready = o.session.ready;
    if (!ready) return;
    const now = await viewFingerprint(ready.service, await ready.service.whoami());
    const changed = last === undefined ? unseenIsChanged : now !== last;
    last = now;
    if (changed) await o.reload();
  };

  // At most one look waiting behind the one under way: while the database is out of
  // reach its feed says "anything may have changed" at every heartbeat, and each look fails slowly.
  let waiting = false;
  const lookAfterChange = () => {
    if (waiting) return;
    waiting = true;
    void serially(() => {
      waiting = false;
      return look(true);
    });
  };

  const rewatch = (state: SessionState) => {
    // A missing store is watched too, so a `keyward init` elsewhere is noticed at once.
    const path = state.status === 'ready' && state.target.kind === 'local' ? state.target.path : state.status === 'no-store' ? state.target.path : undefined;
    if (path !== watchedPath) {
      watcher?.dispose();
      watchedPath = path;
      // A database has no file to watch: its service tells its changes (below).
      watcher = path && !isPostgresUrl(path) ? watchStore(path, () => void o.reload().catch(() => undefined)) : undefined;
    }
    // A database's own service hears every process's changes. Followed per service:
    // the session's state changes at each reload, its service only on (re)connecting.
    const service = state.status === 'ready' && state.target.kind === 'local' && isPostgresUrl(state.target.path) ? state.service : undefined;
    if (service === followed) return;
    follower?.dispose();
    followed = service;
    follower = service ? followStoreChanges(service, lookAfterChange) : undefined;
  };
  rewatch(o.session.state);
  const subscription = o.session.changed.on(rewatch);

  const ticker = poll(o.everyMs, async () => {
    const state = o.session.state;
    if (state.status === 'ready') {
      await serially(() => look(false));
    } else if (state.status === 'failed' || state.status === 'no-store') {
      // Try again: the store may be back, the server up again.
      last = undefined;
      await o.reload();
    }
  });

  return {
    dispose() {
      ticker.dispose();
      subscription.dispose();
      watcher?.dispose();
      follower?.dispose();
    },
  };
}
