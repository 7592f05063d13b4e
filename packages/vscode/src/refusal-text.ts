// SPEC §5: a refusal is shown as its sentence followed by its stable code, the
// same way the command line prints it, so a person can search for the code.

/** The text a person sees for anything a Keyward call threw. */
export function refusalText(e: unknown): string {
  if (e && typeof e === 'object' && 'message' in e) {
    const { message, code } = e as { message: unknown; code?: unknown };
    const text = String(message);
    return typeof code === 'string' && /^[A-Z_]+$/.test(code) ? `${text} (${code})` : text;
  }
  return String(e);
}

/** The stable code of a refusal, when it is one. */
export function refusalCode(e: unknown): string | undefined {
  const code = e && typeof e === 'object' ? (e as { code?: unknown }).code : undefined;
  return typeof code === 'string' && /^[A-Z_]+$/.test(code) ? code : undefined;
}
