// POST /api/v1/api-keys/leaked: where a secret scanner (GitHub's partner
// program) reports Keyward tokens it found in public. No bearer token: the
// report's signature is its authentication, checked before the body is even
// parsed, and a report that is not signed by a configured key changes nothing.

import { KeywardError, parseLeakReports, reportLeaks } from '@keyward/core';
import { readBytes } from '../body.js';
import { signatureHeaders, signedBy } from '../leak-signature.js';
import type { OpenHandler } from '../router.js';

export const reportLeaked: OpenHandler = async (call) => {
  const keys = call.leakKeys;
  const headers = signatureHeaders(call.req);
  if (!keys) throw new KeywardError('UNAUTHENTICATED', 'This server takes no leak reports: it was started without --leak-keys.');
  if (!headers) throw new KeywardError('UNAUTHENTICATED', 'A leak report must be signed: Github-Public-Key-Identifier and Github-Public-Key-Signature.');
  const body = await readBytes(call.req);
  if (!signedBy(keys, headers.keyId, headers.signature, body)) throw new KeywardError('UNAUTHENTICATED', 'The leak report is not signed by a known key.');
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new KeywardError('INVALID_INPUT', 'The leak report is not valid JSON.');
  }
  return { status: 200, body: await reportLeaks(call.engine, parseLeakReports(parsed)) };
};
