// Turns option text into engine values, refusing with behaviour §5 codes.

import { KeywardError, printable } from '@keyward/core';

export function onOff(value: string | boolean | undefined, what: string, code: 'INVALID_SETTING' | 'INVALID_INPUT' = 'INVALID_INPUT'): boolean | undefined {
  if (value === undefined) return undefined;
  const v = String(value).toLowerCase();
  if (['on', 'true', 'yes', '1'].includes(v)) return true;
  if (['off', 'false', 'no', '0'].includes(v)) return false;
  throw new KeywardError(code, `${what} takes on or off, not "${printable(String(value))}".`);
}

/** `range`: the numbers taken, named in the refusal; without it any whole number (the engine checks settings' ranges). */
export function wholeNumber(value: string | boolean | undefined, what: string, code: 'INVALID_SETTING' | 'INVALID_INPUT' = 'INVALID_INPUT', range?: { min: number; max: number }): number | undefined {
  if (value === undefined) return undefined;
  const v = String(value).trim();
  const n = Number(v);
  if (!/^-?\d+$/.test(v) || (range && (n < range.min || n > range.max))) {
    throw new KeywardError(code, `${what} takes a whole number${range ? ` from ${range.min} to ${range.max}` : ''}, not "${printable(String(value))}".`);
  }
  return n;
}

export function str(value: string | boolean | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/**
 * `keyward --refresh SECONDS`: how often the terminal UI looks for changes
 * made elsewhere (2 s by default). Longer over a slow link or against a
 * server billed by the request; at least 1 s, so that a UI left open does not
 * keep a server or database busy on its own.
 */
export function refreshMsOf(value: string | boolean | undefined): number | undefined {
  const seconds = wholeNumber(value, '--refresh', 'INVALID_INPUT', { min: 1, max: 3600 });
  return seconds === undefined ? undefined : seconds * 1000;
}
