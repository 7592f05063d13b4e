// Whether two records read from a store say the same: the caches of wire
// texts (me-text.ts, key-texts.ts) settle most questions by identity, since
// the memory and JSON stores hand out the same objects until a change
// replaces them; a store that hands out copies (PostgreSQL's record cache) is
// compared field by field.

/** Equal as JSON records are (what a store reads back): primitives, arrays and plain objects, field by field. */
export function sameRecord(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (!Object.hasOwn(b, k) || !sameRecord((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  return true;
}
