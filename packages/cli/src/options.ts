// Turns option text into engine values, refusing with behaviour §5 codes.

import { KeywardError, printable } from '@keyward/core';

export function onOff(value: string | boolean | undefined, what: string, code: 'INVALID_SETTING' | 'INVALID_INPUT' = 'INVALID_INPUT'): boolean | undefined {
  if (value === undefined) return undefined;
  const v = String(value).toLowerCase();
  if (['on', 'true', 'yes', '1'].includes(v)) return true;
  if (['off', 'false', 'no', '0'].includes(v)) return false;
  throw new KeywardError(code, `${what} takes on or off, not "${printable(String(value))}".`);
}

export function wholeNumber(value: string | boolean | undefined, what: string, code: 'INVALID_SETTING' | 'INVALID_INPUT' = 'INVALID_INPUT'): number | undefined {
  if (value === undefined) return undefined;
  const v = String(value).trim();
  if (!/^-?\d+$/.test(v)) throw new KeywardError(code, `${what} takes a whole number, not "${printable(String(value))}".`);
  return Number(v);
}

export function str(value: string | boolean | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
