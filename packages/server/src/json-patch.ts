// JSON Patch (RFC 6902) as the Qlik API uses it: a list of `replace`
// operations on top-level fields. Only the shape is checked here; which
// fields exist and what values they take is the engine's call, so the HTTP
// API refuses exactly what the command line refuses, with the same codes.

import { KeywardError, printable } from '@keyward/core';

/** An operation each resource takes, for the messages: a refusal names a field of the resource being patched. */
export const PATCH_EXAMPLES = {
  key: { path: '/description', value: 'CI deploys' },
  user: { path: '/developer', value: true },
  config: { path: '/api_keys_enabled', value: true },
} as const;

/** The fields a patch replaces, in order; a later operation on a field wins, as RFC 6902 applies them one by one. */
export function replacements(patch: unknown, example: { path: string; value: unknown }): Map<string, unknown> {
  const bad = (why: string) =>
    new KeywardError('INVALID_INPUT', `${why} A JSON Patch is a list of operations such as ${JSON.stringify([{ op: 'replace', ...example }])}.`);
  if (!Array.isArray(patch)) throw bad('The body is not a JSON Patch.');
  const fields = new Map<string, unknown>();
  patch.forEach((op: unknown, i) => {
    if (!op || typeof op !== 'object' || Array.isArray(op)) throw bad(`Operation ${i + 1} is not an object.`);
    const { op: verb, path } = op as Record<string, unknown>;
    if (verb !== 'replace') throw bad(`Operation ${i + 1} is ${typeof verb === 'string' ? `"${printable(verb)}"` : 'missing its op'}; only "replace" is supported.`);
    if (typeof path !== 'string' || !/^\/[^/]*$/.test(path)) throw bad(`Operation ${i + 1} needs a path naming one field, such as "${example.path}".`);
    if (!Object.hasOwn(op, 'value')) throw bad(`Operation ${i + 1} has no value.`);
    // RFC 6901 escapes: ~1 is "/", ~0 is "~".
    const field = path.slice(1).replace(/~1/g, '/').replace(/~0/g, '~');
    fields.delete(field);
    fields.set(field, (op as { value: unknown }).value);
  });
  return fields;
}

/** The patch as an object of fields, for the engine's patch methods (own properties only, so "__proto__" stays a plain name). */
export function patchObject(fields: Map<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(fields);
}
