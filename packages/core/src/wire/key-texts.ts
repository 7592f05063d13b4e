// A key as on the wire for one viewer, as JSON text, made again only when
// what it is made of changed: the key, the viewer, the tenant (its settings
// decide rotating), the key's last use, and its status now. Time enters a
// key view only through its status (statusOf: an active key turning
// expired, which takes revoking and rotating with it), so a text is kept
// while the status it was made with still holds. A list page
// (GET /api/v1/api-keys) joins these texts instead of building and
// serializing every view; JSON.stringify of the page is the same bytes.
//
// A key in use changes only its last use between texts (every verify of it,
// every request its token makes): the text kept is then made again from its
// parts, the fields around lastUsedFrom and lastUsed as text and those two
// made anew by the views' own rules, instead of building and serializing the
// whole view.

import type { ApiKey, KeyStatus, Tenant, User } from '../domain.js';
import { statusOf } from '../domain.js';
import { type KeyUse, type KeyView, lastUsedFromView, lastUsedView } from '../views.js';
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
  /** The text around its last use, where it could be split (partsOf). */
  parts: UseParts | undefined;
}

/** A view's text is head + lastUsedFrom + middle + (`,"lastUsed":…` when the use has one) + tail. */
interface UseParts {
  head: string;
  middle: string;
  tail: string;
  /** Whether the view split had a lastUsed: where one goes is known only then (keyViewsFor adds it after actions, before the rotations). */
  lastUsed: boolean;
}

const lastUsedText = (lastUsed: string | undefined) => (lastUsed === undefined ? '' : `,"lastUsed":${JSON.stringify(lastUsed)}`);

/**
 * `view`'s text cut around the fields its use makes, field by field as
 * JSON.stringify writes an object; undefined unless the parts joined again
 * give `text` exactly (a view of another shape is then always made whole).
 */
function partsOf(view: KeyView, text: string): UseParts | undefined {
  let head = '{';
  let middle = '';
  let tail = '';
  let at: 'head' | 'middle' | 'tail' = 'head';
  let first = true;
  for (const [name, value] of Object.entries(view)) {
    if (value === undefined) continue;
    const comma = first ? '' : ',';
    first = false;
    if (name === 'lastUsedFrom') {
      head += `${comma}"lastUsedFrom":`;
      at = 'middle';
    } else if (name === 'lastUsed') {
      at = 'tail';
    } else if (at === 'head') head += `${comma}${JSON.stringify(name)}:${JSON.stringify(value)}`;
    else if (at === 'middle') middle += `${comma}${JSON.stringify(name)}:${JSON.stringify(value)}`;
    else tail += `${comma}${JSON.stringify(name)}:${JSON.stringify(value)}`;
  }
  const parts = { head, middle, tail: `${tail}}`, lastUsed: view.lastUsed !== undefined };
  const lastUsedFrom = JSON.stringify(view.lastUsedFrom);
  if (at === 'head' || joined(parts, lastUsedFrom, view.lastUsed) !== text) return undefined;
  // Kept as cuts of `text`, which is kept beside them: built field by field, each part was a rope of some
  // forty strings that the cache held for as long as the text (most of a server's heap under many creates).
  const middleAt = head.length + lastUsedFrom.length;
  const tailAt = text.length - parts.tail.length;
  return { ...parts, head: text.slice(0, head.length), middle: text.slice(middleAt, middleAt + middle.length), tail: text.slice(tailAt) };
}

const joined = (p: UseParts, lastUsedFrom: string, lastUsed: string | undefined) => p.head + lastUsedFrom + p.middle + lastUsedText(lastUsed) + p.tail;

function sameUse(a: KeyUse | undefined, b: KeyUse | undefined): boolean {
  if (a?.lastUsed !== b?.lastUsed) return false;
  const x = a?.lastUsedFrom ?? [];
  const y = b?.lastUsedFrom ?? [];
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i].address !== y[i].address || x[i].lastSeen !== y[i].lastSeen) return false;
  return true;
}

const sameButUse = (kept: MadeOf, now: MadeOf) => kept.status === now.status && sameRecord(kept.key, now.key) && sameRecord(kept.actor, now.actor) && sameRecord(kept.tenant, now.tenant);
const sameMadeOf = (kept: MadeOf, now: MadeOf) => sameUse(kept.use, now.use) && sameButUse(kept, now);

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
    const made: MadeOf = { key, actor, tenant, status: statusOf(key, now), use, parts: undefined };
    // By the key's id, then the viewer's: no "viewer + key" string made and hashed per row (kept-texts.ts).
    return this.made.text(key.id, made, (kept) => remade(kept, made, viewOf), actor.id);
  }
}

/** A row's text made again: from the kept text's parts when only the use changed, else from its view. */
function remade(kept: MadeOf | undefined, made: MadeOf, viewOf: (key: ApiKey, use?: KeyUse) => KeyView): string {
  const use = made.use;
  // Only the use changed: the kept text's parts with the new use's fields.
  if (kept?.parts !== undefined && kept.parts.lastUsed === (use?.lastUsed !== undefined) && sameButUse(kept, made)) {
    made.parts = kept.parts;
    return joined(kept.parts, JSON.stringify(lastUsedFromView(use ?? {})), use?.lastUsed === undefined ? undefined : lastUsedView(use.lastUsed));
  }
  const view = viewOf(made.key, use);
  const text = JSON.stringify(view);
  made.parts = partsOf(view, text);
  return text;
}

/**
 * A list page as JSON text from its rows' texts: the bytes JSON.stringify
 * gives the page with those rows. One join makes it: the text is then one flat
 * string, where the rows joined inside a template were a string of parts that
 * measuring its bytes (Content-Length) and writing it each copied whole again.
 */
export function pageText(rows: readonly string[], page: Omit<WirePage<unknown>, 'data'>): string {
  const end = `],"links":${JSON.stringify(page.links)},"meta":${JSON.stringify(page.meta)}}`;
  if (rows.length === 0) return `{"data":[${end}`;
  const parts = rows.slice();
  parts[0] = `{"data":[${parts[0]}`;
  parts[parts.length - 1] += end;
  return parts.join(',');
}
