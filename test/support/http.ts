// Small HTTP helpers for tests that drive several `keyward serve` processes.

export interface Answer {
  status: number;
  body: unknown;
  headers: Headers;
}

/** One request with a bearer token; network failures come back as status 0 (the server is gone). */
export async function call(url: string, token: string, method = 'GET', body?: unknown): Promise<Answer> {
  try {
    const r = await fetch(url, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
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
