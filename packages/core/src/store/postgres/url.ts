// Telling a PostgreSQL store apart from a path, and showing its URL safely.
// Kept apart from the adapter so that naming a store never loads the driver.

/** True for a store target that names a PostgreSQL database. */
export function isPostgresUrl(target: string): boolean {
  return /^postgres(ql)?:\/\//i.test(target);
}

/** The URL with its password taken out: what messages, headers and logs may show. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '';
    return u.toString().replace(/^(postgres(?:ql)?:\/\/[^:@/]*):?@/i, '$1@');
  } catch {
    return 'postgres://(a URL that does not parse)';
  }
}
