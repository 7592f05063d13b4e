// Lists answer as Qlik's do: {data, links:{self, next?, prev?}}, where next
// and prev are ready-made links carrying the cursor, plus Keyward's
// meta.total (rows matching the query, all pages together).

import type { Page, WirePage } from '@keyward/core';
import type { Call } from './router.js';

const NO_POSITION = { startingAfter: undefined, endingBefore: undefined, offset: undefined };

export function pageBody<T>(call: Call, page: Page<T>): WirePage<T> {
  const links: WirePage<T>['links'] = { self: { href: call.link({}) } };
  if (page.next !== undefined) links.next = { href: call.link({ ...NO_POSITION, startingAfter: page.next }) };
  if (page.prev !== undefined) links.prev = { href: call.link({ ...NO_POSITION, endingBefore: page.prev }) };
  return { data: page.data, links, meta: { total: page.total } };
}
