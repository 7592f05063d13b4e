// UTC days and hours as file names, and the time an event id carries: ids
// start with their creation time in base 36 (newEvent), so a cursor names the
// day segment it lives in without any lookup.

export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;

/** "2026-12-01" for a time in that UTC day. */
export function dayOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Epoch ms of a day's first instant; NaN for a name that is not a day. */
export function dayStart(day: string): number {
  return /^\d{4}-\d{2}-\d{2}$/.test(day) ? Date.parse(`${day}T00:00:00.000Z`) : NaN;
}

/** "2026-12-01T13" for a time in that UTC hour. */
export function hourOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 13);
}

/** Epoch ms of an hour's first instant; NaN for a name that is not an hour. */
export function hourStart(hour: string): number {
  return /^\d{4}-\d{2}-\d{2}T\d{2}$/.test(hour) ? Date.parse(`${hour}:00:00.000Z`) : NaN;
}

/** Epoch ms an event id was made at (its first 9 characters, base 36); NaN if it has none. */
export function timeOfEventId(id: string): number {
  if (typeof id !== 'string' || id.length < 10 || !/^[0-9a-z]{9}/.test(id)) return NaN;
  const ms = parseInt(id.slice(0, 9), 36);
  return Number.isSafeInteger(ms) ? ms : NaN;
}
