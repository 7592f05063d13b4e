// Keeps every view current without a Refresh click: a local store's changes
// are seen at once through a directory watch; a server, and the passing of
// time (keys expire on their own), are seen by polling what the views show.

import { type KeyService, type WhoAmI, isPostgresUrl } from '@keyward/core';
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
  let last: string | undefined;

  const rewatch = (state: SessionState) => {
    // A missing store is watched too, so a `keyward init` elsewhere is noticed at once.
    const path = state.status === 'ready' && state.target.kind === 'local' ? state.target.path : state.status === 'no-store' ? state.target.path : undefined;
    if (path === watchedPath) return;
    watcher?.dispose();
    watchedPath = path;
    // A database has no file to watch: polling below sees its changes.
    watcher = path && !isPostgresUrl(path) ? watchStore(path, () => void o.reload().catch(() => undefined)) : undefined;
  };
  rewatch(o.session.state);
  const subscription = o.session.changed.on(rewatch);

  const ticker = poll(o.everyMs, async () => {
    const state = o.session.state;
    if (state.status === 'ready') {
      const now = await viewFingerprint(state.service, await state.service.whoami());
      const changed = last !== undefined && now !== last;
      last = now;
      if (changed) await o.reload();
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
    },
  };
}
