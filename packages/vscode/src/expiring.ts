// The status bar's question: which of my keys expire within the next 7 days?

import { type KeyService, type KeyView, expiresSoon, relativeTime } from '@keyward/core';
import { PAGE_SIZE } from './key-tree.js';

/** A person holds at most 1000 active keys (behaviour §1), so this bounds the paging. */
const MAX_PAGES = 1000 / PAGE_SIZE + 1;

/** My active keys that expire within 7 days, soonest first. */
export async function myKeysExpiringSoon(service: KeyService, me: string, now: number): Promise<KeyView[]> {
  const soon: KeyView[] = [];
  let after: string | undefined;
  for (let i = 0; i < MAX_PAGES; i++) {
    const page = await service.listKeys({ sub: me, status: 'active', limit: PAGE_SIZE, ...(after ? { startingAfter: after } : {}) });
    for (const k of page.data) if (expiresSoon(k, now)) soon.push(k);
    if (!page.next) break;
    after = page.next;
  }
  return soon.sort((a, b) => (a.expiry < b.expiry ? -1 : 1));
}

/** The status bar text and tooltip for those keys. */
export function expiringSummary(keys: KeyView[], now: number): { text: string; tooltip: string; warn: boolean } {
  if (keys.length === 0) return { text: '$(key) Keyward', tooltip: 'None of your API keys expires within 7 days.', warn: false };
  const lines = keys.slice(0, 10).map((k) => `• ${k.description} — ${relativeTime(k.expiry, now)}`);
  if (keys.length > 10) lines.push(`… and ${keys.length - 10} more`);
  const n = keys.length;
  return {
    text: `$(key) ${n} expiring`,
    tooltip: `${n} of your API keys expire${n === 1 ? 's' : ''} within 7 days:\n${lines.join('\n')}`,
    warn: true,
  };
}

