// Lists answer as Qlik's do: {data, links:{self, next?, prev?}}, where next
// and prev are ready-made links carrying the cursor, plus Keyward's
// meta.total (rows matching the query, all pages together).

import { type Page, type WirePage, pageText } from '@keyward/core';
import type { Call } from './router.js';

const NO_POSITION = { startingAfter: undefined, endingBefore: undefined, offset: undefined };

export function pageBody<T>(call: Call, page: Page<T>): WirePage<T> {
  const links: WirePage<T>['links'] = { self: { href: call.link({}) } };
  if (page.next !== undefined) links.next = { href: call.link({ ...NO_POSITION, startingAfter: page.next }) };
  if (page.prev !== undefined) links.prev = { href: call.link({ ...NO_POSITION, endingBefore: page.prev }) };
  return { data: page.data, links, meta: { total: page.total } };
}

/** The same page as JSON text, from its rows' texts (core's wire/key-texts.ts): the bytes JSON.stringify(pageBody(…)) would give. */
export function pageBodyText(call: Call, page: Page<string>): string {
  const { links, meta } = pageBody(call, { ...page, data: [] });
  return pageText(page.data, { links, meta });
}
