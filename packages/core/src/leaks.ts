// Tokens reported leaked by a secret scanner (GitHub's secret scanning
// partner protocol, behaviour §3). The server has checked the report's signature
// before this runs; here each reported token is matched against its key —
// by its hash, in constant time, so a string that only carries a real key id
// revokes nothing — and a genuine, active one is revoked at once.
//
// The token is never kept: the events name the key, the url and the source,
// and the answer names each token by its SHA-256, as the protocol asks.

import { type ApiKey, statusOf } from './domain.js';
import { type Engine } from './engine.js';
import { newEvent } from './events.js';
import { printable } from './duration.js';
import { refuse } from './refusal.js';
import type { Transaction } from './store/boundary.js';
import { keysInIdOrder } from './store/lock-order.js';
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

/** The keys the reported tokens name, read in id order whatever the report's (lock-order.ts). */
function keysNamed(tx: Transaction, reports: readonly LeakReport[]): Promise<Map<string, ApiKey | undefined>> {
  const ids: string[] = [];
  for (const r of reports) {
    const parsed = parseToken(r.token);
    if (parsed.ok) ids.push(parsed.keyId);
  }
  return keysInIdOrder(tx, ids);
}

/** The key a reported token really belongs to, or undefined for a token no key has. */
function keyOfToken(keys: ReadonlyMap<string, ApiKey | undefined>, token: string): ApiKey | undefined {
  const parsed = parseToken(token);
  if (!parsed.ok) return undefined;
  const key = keys.get(parsed.keyId);
  return key && tokenMatches(token, key.hash) ? key : undefined;
}

/** Revokes the key of every genuine active token reported, and answers the protocol's feedback. */
export async function reportLeaks(engine: Engine, reports: LeakReport[]): Promise<LeakFeedback[]> {
  return engine.store.transact(async (tx) => {
    const now = engine.clock.now();
    const iso = new Date(now).toISOString();
    // Reads in a transaction see the store before its own writes: a token reported twice is revoked once.
    const revokedHere = new Map<string, ApiKey>();
    const answers: LeakFeedback[] = [];
    const keys = await keysNamed(tx, reports);
    for (const r of reports) {
      const found = keyOfToken(keys, r.token);
      answers.push({ token_hash: hashToken(r.token), token_type: r.type, label: found ? 'true_positive' : 'false_positive' });
      if (!found) continue;
      const key = revokedHere.get(found.id) ?? found;
      const before = statusOf(key, now);
      if (before === 'active') {
        const revoked: ApiKey = { ...key, revokedAt: iso, revokedBy: LEAK_REPORTER, lastUpdated: iso };
        revokedHere.set(key.id, revoked);
        tx.putKey(revoked);
        tx.emit(newEvent('api-key.revoked', now, LEAK_REPORTER, key.id, { description: key.description, sub: key.owner, reason: 'leaked' }));
      }
      // The url and source say where it leaked; both are the reporter's text, kept short and printable.
      tx.emit(
        newEvent('api-key.leaked', now, LEAK_REPORTER, key.id, {
          sub: key.owner,
          type: printable(r.type, 100),
          ...(r.url !== undefined ? { url: printable(r.url, 500) } : {}),
          ...(r.source !== undefined ? { source: printable(r.source, 100) } : {}),
          status: before,
          revoked: before === 'active',
        }),
      );
    }
    return answers;
  });
}
