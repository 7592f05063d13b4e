// The service for a Keyward server. Until core's HTTP client lands, working
// against a server is refused with a clear reason instead of failing later.

import { type KeyService, KeywardError } from '@keyward/core';

export function openServer(url: string, _token: string): KeyService {
  throw new KeywardError('UNAVAILABLE', `Working against a server (${url}) is not available in this build.`);
}
