// The service for a Keyward server: core's HTTP client. The server runs every
// rule, so the extension cannot do more over HTTP than the token's owner may.

import { type KeyService, createRemoteService } from '@keyward/core';

export function openServer(url: string, token: string): KeyService {
  return createRemoteService(url, token);
}
