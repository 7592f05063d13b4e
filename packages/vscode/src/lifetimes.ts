// The lifetime question of Generate API Key: the tenant maximum first (the
// default of SPEC §2), then shorter presets, then a typed duration. A preset
// above the maximum is never offered, because the engine would refuse it.

import { describeDuration, parseDuration, parseLifetime } from '@keyward/core';

export interface LifetimeChoice {
  label: string;
  detail?: string;
  /** The duration to ask for; undefined means "the tenant maximum". */
  expiry?: string;
  /** Ask the person to type one. */
  custom?: true;
}

const PRESETS = ['PT1H', 'PT8H', 'P1D', 'P7D', 'P30D', 'P90D', 'P365D'];

export function lifetimeChoices(maxLifetime: string): LifetimeChoice[] {
  const max = parseDuration(maxLifetime);
  const choices: LifetimeChoice[] = [
    { label: max ? describeDuration(max.ms) : maxLifetime, detail: `The tenant maximum (${maxLifetime})` },
  ];
  for (const iso of PRESETS) {
    const d = parseDuration(iso)!;
    if (max && d.ms < max.ms) choices.push({ label: describeDuration(d.ms), expiry: iso });
  }
  choices.push({ label: 'Other…', detail: 'Type a duration: P14D, PT12H, 45m…', custom: true });
  return choices;
}

/** Validation for a typed lifetime: undefined when it is acceptable, else why not. */
export function checkTypedLifetime(text: string, maxLifetime: string): string | undefined {
  let ms: number;
  try {
    ms = parseLifetime(text).ms;
  } catch (e) {
    return (e as Error).message;
  }
  const max = parseDuration(maxLifetime);
  if (max && ms > max.ms) return `Longer than the tenant maximum of ${maxLifetime} (${describeDuration(max.ms)}).`;
  return undefined;
}
