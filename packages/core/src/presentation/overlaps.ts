// The overlaps every face offers when a key is rotated: how long the old
// token keeps working beside the new one. The default (policy's
// DEFAULT_ROTATION_OVERLAP) comes first; "at once" (PT0S) ends the old token
// the moment the new one exists. A face may also let a person type one
// (policy's checkOverlap). An overlap never outlives the old key: the engine
// ends the old token at its own expiry if that comes first.

import { describeDuration, parseDuration } from '../duration.js';
import { DEFAULT_ROTATION_OVERLAP } from '../policy.js';

export const OVERLAP_PRESETS = ['PT0S', 'PT15M', 'PT1H', 'PT8H', 'P1D', 'P7D'] as const;

export interface OverlapChoice {
  /** ISO 8601, as sent to the service. */
  iso: string;
  /** "1 hour", or "At once" for PT0S. */
  label: string;
  /** DEFAULT_ROTATION_OVERLAP. */
  default: boolean;
}

/** The default first, then the others shortest first. */
export function overlapChoices(): OverlapChoice[] {
  const def = parseDuration(DEFAULT_ROTATION_OVERLAP)!;
  const choice = (iso: string): OverlapChoice => {
    const d = parseDuration(iso)!;
    return { iso: d.iso, label: d.ms === 0 ? 'At once' : describeDuration(d.ms), default: d.ms === def.ms };
  };
  const presets = OVERLAP_PRESETS.map(choice);
  const first = presets.find((c) => c.default) ?? choice(DEFAULT_ROTATION_OVERLAP);
  return [first, ...presets.filter((c) => c !== first)];
}
