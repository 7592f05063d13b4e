// The generate dialog's lifetime question in its own words: the choices are
// core's (lifetimeChoices), a typed lifetime is judged by policy's checkLifetime.

import { type LifetimeChoice, checkLifetime as lifetimeRule, describeDuration, parseDuration, refusalText } from '@keyward/core';

/** A choice as the dialog lists it: the maximum says it is one. */
export const choiceLabel = (c: LifetimeChoice): string => (c.maximum ? `${c.label} (the tenant maximum)` : c.label);

/** What is wrong with a typed lifetime, in the words and codes of behaviour §5; null when it is fine. */
export function checkLifetime(text: string, maxIso: string): string | null {
  if (text.trim() === '') return 'Type a lifetime such as 12h, 7d or P30D.';
  const r = lifetimeRule(text, maxIso);
  return r.ok ? null : refusalText(r.refusal);
}

export const describeIso = (iso: string): string => {
  const d = parseDuration(iso);
  return d ? describeDuration(d.ms) : iso;
};
