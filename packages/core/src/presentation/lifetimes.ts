// The lifetimes every face offers when a key is generated: common presets
// shorter than the tenant maximum, and the maximum itself, the default
// (behaviour §2). A preset above the maximum is never offered: the engine would
// refuse it. A face may also let a person type one (policy's checkLifetime).

import { describeDuration, parseDuration } from '../duration.js';

export const LIFETIME_PRESETS = ['PT1H', 'PT8H', 'P1D', 'P7D', 'P30D', 'P90D', 'P365D'] as const;

export interface LifetimeChoice {
  /** ISO 8601, as sent to the service. */
  iso: string;
  /** "7 days". */
  label: string;
  /** The tenant maximum (the default). */
  maximum: boolean;
}

/** Shortest first, the tenant maximum last; `defaultIndex` is the maximum. No choices when the maximum is not a duration. */
export function lifetimeChoices(maxLifetime: string): { choices: LifetimeChoice[]; defaultIndex: number } {
  const max = parseDuration(maxLifetime);
  if (!max || max.ms <= 0) return { choices: [], defaultIndex: 0 };
  const choices: LifetimeChoice[] = LIFETIME_PRESETS.map((iso) => parseDuration(iso)!)
    .filter((d) => d.ms < max.ms)
    .map((d) => ({ iso: d.iso, label: describeDuration(d.ms), maximum: false }));
  choices.push({ iso: max.iso, label: describeDuration(max.ms), maximum: true });
  return { choices, defaultIndex: choices.length - 1 };
}
