// What a line of an event segment must hold to be taken for an event: a line
// that checks but is not one (a hand edit, `null`, `{}`) is skipped, never
// handed to a use case that would crash on it.

import { EVENT_TYPES, type KeywardEvent } from '../../domain.js';

const TYPES: ReadonlySet<string> = new Set(EVENT_TYPES);

export function isKeywardEvent(x: unknown): x is KeywardEvent {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return false;
  const e = x as Record<string, unknown>;
  return (
    typeof e.id === 'string' &&
    typeof e.eventType === 'string' &&
    TYPES.has(e.eventType) &&
    typeof e.eventTime === 'string' &&
    typeof e.userId === 'string' &&
    (e.keyId === undefined || typeof e.keyId === 'string') &&
    typeof e.data === 'object' &&
    e.data !== null &&
    !Array.isArray(e.data)
  );
}
