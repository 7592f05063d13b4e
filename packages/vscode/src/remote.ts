// The service for a Keyward server: core's HTTP client, opened as every face
// opens a service (core's openService). The server runs every
// rule, so the extension cannot do more over HTTP than the token's owner may.

import { type KeyService, openService, relativeTime } from '@keyward/core';

/** A server connection; `warn` is told once when the server says the token ends within 7 days. */
export function openServer(url: string, token: string, warn?: (message: string) => void): Promise<KeyService> {
  return openService({
    server: url,
    token,
    onTokenExpiring: warn && ((expiry) => warn(`Your Keyward token for ${url} expires ${relativeTime(expiry, Date.now())} (${expiry}). Generate a new one and sign in again before then.`)),
  });
}
