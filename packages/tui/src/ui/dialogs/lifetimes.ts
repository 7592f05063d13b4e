// The lifetimes offered when generating a key: common presets shorter than
// the tenant maximum, and the maximum itself (the default, SPEC §2).

import { describeDuration, parseDuration, parseLifetime } from '@keyward/core';
import { describeError } from '../app-context.js';

export interface LifetimeChoice {
  /** ISO 8601, as sent to the service. */
  iso: string;
  label: string;
}

const PRESETS = ['PT1H', 'P1D', 'P7D', 'P30D', 'P90D', 'P365D'];

export function lifetimeChoices(maxIso: string): { choices: LifetimeChoice[]; defaultIndex: number } {
  const max = parseDuration(maxIso);
  if (!max || max.ms <= 0) return { choices: [], defaultIndex: 0 };
  const choices: LifetimeChoice[] = PRESETS.map((iso) => parseDuration(iso)!)
    .filter((d) => d.ms < max.ms)
    .map((d) => ({ iso: d.iso, label: describeDuration(d.ms) }));
  choices.push({ iso: max.iso, label: `${describeDuration(max.ms)} (the tenant maximum)` });
  return { choices, defaultIndex: choices.length - 1 };
}

/** What is wrong with a typed lifetime, in the words and codes of SPEC §5; null when it is fine. */
export function checkLifetime(text: string, maxIso: string): string | null {
  if (text.trim() === '') return 'Type a lifetime such as 12h, 7d or P30D.';
  let d;
  try {
    d = parseLifetime(text);
  } catch (e) {
    return describeError(e);
  }
  const max = parseDuration(maxIso);
  if (max && d.ms > max.ms) return `The lifetime ${d.iso} is longer than the tenant maximum of ${maxIso}. (EXPIRY_TOO_LONG)`;
  return null;
}

export const describeIso = (iso: string): string => {
  const d = parseDuration(iso);
  return d ? describeDuration(d.ms) : iso;
};
