// The lifetime question of Generate API Key as quick-pick items: core's
// choices (lifetimeChoices) with the tenant maximum first, because a quick
// pick preselects its first item and the maximum is the default (behaviour §2);
// then a typed duration, judged by policy's checkLifetime.

import { checkLifetime, lifetimeChoices } from '@keyward/core';

export interface LifetimeItem {
  label: string;
  detail?: string;
  /** The duration to ask for; undefined means "the tenant maximum". */
  expiry?: string;
  /** Ask the person to type one. */
  custom?: true;
}

export function lifetimeItems(maxLifetime: string): LifetimeItem[] {
  const { choices } = lifetimeChoices(maxLifetime);
  const items: LifetimeItem[] = [];
  for (const c of choices) {
    if (c.maximum) items.unshift({ label: c.label, detail: `The tenant maximum (${maxLifetime})` });
    else items.push({ label: c.label, expiry: c.iso });
  }
  items.push({ label: 'Other…', detail: 'Type a duration: P14D, PT12H, 45m…', custom: true });
  return items;
}

/** Validation for a typed lifetime: undefined when it is acceptable, else why not. */
export function checkTypedLifetime(text: string, maxLifetime: string): string | undefined {
  const r = checkLifetime(text, maxLifetime);
  return r.ok ? undefined : r.refusal.message;
}
