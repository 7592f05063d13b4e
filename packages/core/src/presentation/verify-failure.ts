// Why a token does not authenticate, in the words every face uses: the
// server's 401 detail and `keyward keys verify` say the same sentence for the
// same reason (the reasons themselves are VerifyFailure, in usage.ts).

import type { VerifyFailure } from '../usage.js';

export const VERIFY_FAILURE_TEXT: Record<VerifyFailure, string> = {
  malformed: 'The token is not a Keyward token (kw_…).',
  unknown: 'The token is not known: its key was deleted, or it was never issued.',
  expired: 'The token has expired.',
  revoked: 'The token has been revoked.',
  unlicensed: "The token's owner has no active licence, or is no longer a user of the tenant.",
};
