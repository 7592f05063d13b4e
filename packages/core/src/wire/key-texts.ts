// A key as on the wire for one viewer, as JSON text, made again only when
// what it is made of changed: the key, the viewer, the tenant (its settings
// decide rotating), the key's last use, and its status now. Time enters a
// key view only through its status (statusOf: an active key turning
// expired, which takes revoking and rotating with it), so a text is kept
// while the status it was made with still holds. A list page
// (GET /api/v1/api-keys) joins these texts instead of building and
// serializing every view; JSON.stringify of the page is the same bytes.

import type { ApiKey, KeyStatus, Tenant, User } from '../domain.js';
import { statusOf } from '../domain.js';
import type { KeyUse, KeyView } from '../views.js';
import { copyOfSighting } from '../store/usage-aggregates.js';
import { KeptTexts } from './kept-texts.js';
import { sameRecord } from './same-record.js';
import type { WirePage } from './types.js';

// One entry per viewer and key; beyond this many, the cache starts over.
const MAX_TEXTS = 50_000;

interface MadeOf {
  key: ApiKey;
  actor: User;
  tenant: Tenant;
  status: KeyStatus;
  use: KeyUse | undefined;
}

function sameUse(a: KeyUse | undefined, b: KeyUse | undefined): boolean {
  if (a?.lastUsed !== b?.lastUsed) return false;
  const x = a?.lastUsedFrom ?? [];
  const y = b?.lastUsedFrom ?? [];
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i].address !== y[i].address || x[i].lastSeen !== y[i].lastSeen) return false;
  return true;
}

const sameMadeOf = (kept: MadeOf, now: MadeOf) =>
  kept.status === now.status && sameUse(kept.use, now.use) && sameRecord(kept.key, now.key) && sameRecord(kept.actor, now.actor) && sameRecord(kept.tenant, now.tenant);

// The records are adopted (identity settles them next time); the last use stays
// the kept copy, since the one handed in may be changed in place by the next use.
const adoptRecords = (kept: MadeOf, now: MadeOf): MadeOf => {
  kept.key = now.key;
  kept.actor = now.actor;
  kept.tenant = now.tenant;
  return kept;
};
const copyUse = (now: MadeOf): MadeOf => ({ ...now, use: now.use && { lastUsed: now.use.lastUsed, lastUsedFrom: (now.use.lastUsedFrom ?? []).map(copyOfSighting) } });

export class KeyTexts {
  private readonly made = new KeptTexts<MadeOf>(MAX_TEXTS, sameMadeOf, adoptRecords, copyUse);

  /** `viewOf` makes the view when the text must be made again (views' keyViewsFor, for this viewer). */
  text(key: ApiKey, viewer: { actor: User; tenant: Tenant; now: number }, use: KeyUse | undefined, viewOf: (key: ApiKey, use?: KeyUse) => KeyView): string {
    const { actor, tenant, now } = viewer;
    return this.made.text(`${actor.id}\n${key.id}`, { key, actor, tenant, status: statusOf(key, now), use }, () => JSON.stringify(viewOf(key, use)));
  }
}

/** A list page as JSON text from its rows' texts: the bytes JSON.stringify gives the page with those rows. */
export function pageText(rows: readonly string[], page: Omit<WirePage<unknown>, 'data'>): string {
  return `{"data":[${rows.join(',')}],"links":${JSON.stringify(page.links)},"meta":${JSON.stringify(page.meta)}}`;
}
