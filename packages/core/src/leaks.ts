// Tokens reported leaked by a secret scanner (GitHub's secret scanning
// partner protocol, SPEC §3). The server has checked the report's signature
// before this runs; here each reported token is matched against its key —
// by its hash, in constant time, so a string that only carries a real key id
// revokes nothing — and a genuine, active one is revoked at once.
//
// The token is never kept: the events name the key, the url and the source,
// and the answer names each token by its SHA-256, as the protocol asks.

import { type ApiKey, type KeywardEvent, statusOf } from './domain.js';
import { type Engine } from './engine.js';
import { newEvent } from './events.js';
import { printable } from './duration.js';
import { refuse } from './refusal.js';
import { hashToken, parseToken, tokenMatches } from './token.js';

/** The actor events name for what a secret scanner's report did. */
export const LEAK_REPORTER = 'secret-scanning';

export interface LeakReport {
  token: string;
  type: string;
  url?: string;
  source?: string;
}

/** GitHub's feedback for one reported token. */
export interface LeakFeedback {
  token_hash: string;
  token_type: string;
  label: 'true_positive' | 'false_positive';
}

const MAX_REPORTS = 1000;

/** The body of a report: a JSON array of {token, type, url?, source?}; refused whole when any entry is malformed. */
export function parseLeakReports(body: unknown): LeakReport[] {
  if (!Array.isArray(body) || body.length === 0) refuse('INVALID_INPUT', 'A leak report is a JSON array of {token, type, url, source}.');
  if (body.length > MAX_REPORTS) refuse('INVALID_INPUT', `A leak report holds at most ${MAX_REPORTS} tokens.`);
  return body.map((r, i) => {
    const o = r as Record<string, unknown>;
    if (!o || typeof o !== 'object' || typeof o.token !== 'string' || typeof o.type !== 'string') {
      refuse('INVALID_INPUT', `Entry ${i} of the leak report needs a token and a type, as text.`);
    }
    for (const f of ['url', 'source'] as const) {
      if (o[f] !== undefined && typeof o[f] !== 'string') refuse('INVALID_INPUT', `Entry ${i} of the leak report has a ${f} that is not text.`);
    }
    return { token: o.token, type: o.type, url: o.url as string | undefined, source: o.source as string | undefined };
  });
}

/** The key a reported token really belongs to, or undefined for a token no key has. */
function keyOfToken(keys: Record<string, ApiKey>, token: string): ApiKey | undefined {
  const parsed = parseToken(token);
  if (!parsed.ok || !Object.hasOwn(keys, parsed.keyId)) return undefined;
  const key = keys[parsed.keyId];
  return tokenMatches(token, key.hash) ? key : undefined;
}

/** Revokes the key of every genuine active token reported, and answers the protocol's feedback. */
export async function reportLeaks(engine: Engine, reports: LeakReport[]): Promise<LeakFeedback[]> {
  const feedback = await engine.store.transact((doc, tx) => {
    const now = engine.clock.now();
    const iso = new Date(now).toISOString();
    const emit = (e: KeywardEvent) => tx.emit(e);
    const answers: LeakFeedback[] = [];
    for (const r of reports) {
      const key = keyOfToken(doc.keys, r.token);
      answers.push({ token_hash: hashToken(r.token), token_type: r.type, label: key ? 'true_positive' : 'false_positive' });
      if (!key) continue;
      const before = statusOf(key, now);
      if (before === 'active') {
        key.revokedAt = iso;
        key.revokedBy = LEAK_REPORTER;
        key.lastUpdated = iso;
        emit(newEvent('api-key.revoked', now, LEAK_REPORTER, key.id, { description: key.description, sub: key.owner, reason: 'leaked' }));
      }
      // The url and source say where it leaked; both are the reporter's text, kept short and printable.
      emit(newEvent('api-key.leaked', now, LEAK_REPORTER, key.id, {
        sub: key.owner,
        type: printable(r.type, 100),
        ...(r.url !== undefined ? { url: printable(r.url, 500) } : {}),
        ...(r.source !== undefined ? { source: printable(r.source, 100) } : {}),
        status: before,
        revoked: before === 'active',
      }));
    }
    return answers;
  });
  engine.bump();
  return feedback;
}
