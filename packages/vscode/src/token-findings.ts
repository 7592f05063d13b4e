// Keyward tokens in a document. A token is recognised by its prefix and shape,
// and its checksum is checked on the spot: a mistyped one is reported without
// asking the store. Only well-formed tokens are looked up, by key id; the
// editor never verifies a token, because verifying counts as a use of the key.

import { type KeyView, TOKEN_IN_TEXT, keyViewAt, parseToken, relativeTime, sinceTime } from '@keyward/core';
import { timeText } from './time-text.js';

export interface TokenFinding {
  /** Offsets in the document text. */
  start: number;
  end: number;
  token: string;
  /** The key id, when the checksum holds. */
  keyId?: string;
}

export type KeyLookup =
  | { kind: 'found'; key: KeyView }
  /** No such key for this user: deleted, never existed, or someone else's. */
  | { kind: 'unknown' }
  /** The store or server could not answer; nothing is claimed about the token. */
  | { kind: 'unavailable'; reason: string };

export type VerdictCode = 'checksum' | 'unknown' | 'revoked' | 'expired' | 'secret-in-source';

export interface TokenVerdict {
  severity: 'warning' | 'information';
  code: VerdictCode;
  message: string;
}

export function findTokens(text: string): TokenFinding[] {
  const found: TokenFinding[] = [];
  for (const m of text.matchAll(new RegExp(TOKEN_IN_TEXT.source, 'g'))) {
    const parsed = parseToken(m[0]);
    const f: TokenFinding = { start: m.index, end: m.index + m[0].length, token: m[0] };
    if (parsed.ok) f.keyId = parsed.keyId;
    found.push(f);
  }
  return found;
}

const quoted = (key: KeyView) => JSON.stringify(key.description);

/** What to say about a token, if anything. `tracked`: the file is tracked by git. */
export function judgeToken(f: TokenFinding, lookup: KeyLookup | undefined, tracked: boolean, now: number): TokenVerdict | undefined {
  if (!f.keyId) {
    return { severity: 'warning', code: 'checksum', message: 'This looks like a Keyward token, but its checksum does not match: it is mistyped or damaged and will not authenticate.' };
  }
  if (!lookup || lookup.kind === 'unavailable') return undefined;
  if (lookup.kind === 'unknown') {
    return { severity: 'warning', code: 'unknown', message: `Unknown Keyward key ${f.keyId}: it was deleted, or it is not one you can see. A deleted key's token does not authenticate.` };
  }
  const key = lookup.key;
  switch (keyViewAt(key, now).status) {
    case 'revoked':
      return { severity: 'warning', code: 'revoked', message: `Keyward key ${quoted(key)} was revoked: this token no longer authenticates.` };
    case 'expired':
      return { severity: 'warning', code: 'expired', message: `Keyward key ${quoted(key)} expired ${relativeTime(key.expiry, now)}: this token no longer authenticates.` };
    case 'active':
      return tracked
        ? { severity: 'information', code: 'secret-in-source', message: `Active Keyward key ${quoted(key)} in a file tracked by git: a secret in source. Move it to an untracked file such as .env, and replace this key.` }
        : undefined;
  }
}

/** Markdown text cannot be confused with formatting when it comes from the store. */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>~]/g, '\\$&');
}

/** The hover for a token, as Markdown lines. */
export function hoverMarkdown(f: TokenFinding, lookup: KeyLookup, now: number): string {
  if (!f.keyId) return '**Keyward token — not valid**\n\nThe checksum does not match: the token is mistyped or damaged.';
  const id = `\`${f.keyId}\``;
  if (lookup.kind === 'unavailable') return `**Keyward key** ${id}\n\nCannot look it up: ${escapeMarkdown(lookup.reason)}`;
  if (lookup.kind === 'unknown') return `**Keyward key** ${id} — unknown\n\nNo such key: it was deleted, or it is not one you can see.`;
  const key = lookup.key;
  const status = keyViewAt(key, now).status;
  const expiry = status === 'revoked' ? timeText(key.expiry) : `${timeText(key.expiry)} (${relativeTime(key.expiry, now)})`;
  // Two trailing spaces end a Markdown line without starting a paragraph.
  return [
    `**Keyward key** ${escapeMarkdown(key.description)} — ${status}`,
    `Owner: ${escapeMarkdown(key.sub)}`,
    `Expires: ${expiry}`,
    `Last used: ${key.lastUsed ? `${timeText(key.lastUsed)} (${sinceTime(key.lastUsed, now)})` : 'never'}`,
    ...(key.lastUsedFrom?.length ? [`Last used from: ${key.lastUsedFrom.map((a) => `${escapeMarkdown(a.address)} (${sinceTime(a.lastSeen, now)})`).join(', ')}`] : []),
    `Id: ${id}`,
  ].join('  \n');
}
