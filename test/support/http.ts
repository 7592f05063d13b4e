// Small HTTP helpers for tests that drive several `keyward serve` processes.

export interface Answer {
  status: number;
  body: unknown;
  headers: Headers;
}

/** One request with a bearer token; network failures come back as status 0 (the server is gone). */
/** `token`: sent as the bearer; none for a route that takes none (GET /api/v1/health). */
export async function call(url: string, token?: string, method = 'GET', body?: unknown): Promise<Answer> {
  try {
    const r = await fetch(url, {
      method,
      // A connection each: tests block this process in spawnSync (a `keyward` command) between calls, past the
      // server's 5 s keep-alive under load, and the next call then went out on the connection the server had
      // closed meanwhile ('other side closed', status 0: scale-out failed 6 runs in 7 at load 13-20).
      headers: { ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), connection: 'close', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await r.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: kept as text for the assertion message
    }
    return { status: r.status, body: parsed, headers: r.headers };
  } catch {
    return { status: 0, body: undefined, headers: new Headers() };
  }
}

/** The stable code of an error answer. */
export const codeOf = (a: Answer) => (a.body as { errors?: { code: string }[] })?.errors?.[0]?.code;
