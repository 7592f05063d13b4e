// Bearer authentication and the slow-down for addresses that keep failing it.
//
// The throttle counts only failures, and a valid token always passes, even
// from an address that is being slowed down. Deliberately: the server binds
// to loopback by default, so the command line, the terminal UI and any
// misconfigured script all share 127.0.0.1, and one script spamming a stale
// token must not lock its admin out. Guessing is hopeless anyway (160 random
// bits per secret); what the 429 stops is a client that hammers the server and
// the event log with failures, and it tells that client when to come back.

import type { IncomingMessage } from 'node:http';
import { isIPv6 } from 'node:net';
import { VERIFY_FAILURE_TEXT, type VerifyOutcome } from '@keyward/core';

/** The token of an `Authorization: Bearer …` header; undefined when there is no header, '' when it is not a bearer. */
export function bearerOf(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (header === undefined) return undefined;
  const m = /^\s*bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1] : '';
}

export function refusalText(outcome: VerifyOutcome | undefined): string {
  if (!outcome) return 'Send a Keyward token: Authorization: Bearer kw_…';
  if (outcome.valid) return '';
  return outcome.reason === 'malformed' ? `${VERIFY_FAILURE_TEXT.malformed} Send it as Authorization: Bearer kw_…` : VERIFY_FAILURE_TEXT[outcome.reason];
}

export interface ThrottleOptions {
  /** Failures an address may have in a burst before it is slowed down. */
  burst: number;
  /** Failures per minute it may go on having after that. */
  perMinute: number;
}

export const DEFAULT_THROTTLE: ThrottleOptions = { burst: 20, perMinute: 20 };
// Enough for every address of a busy deployment; beyond it the quietest are forgotten.
const MAX_TRACKED = 10_000;

/**
 * Who the slow-down counts a failure against. One IPv6 client commonly holds
 * a whole /64 (and picks a new address in it at will), so IPv6 is counted by
 * its /64; an IPv4 address (also when written IPv4-mapped) is counted alone.
 */
export function throttleKeyOf(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1];
  if (!isIPv6(address)) return address;
  const [head, tail = ''] = address.split('%')[0].split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  // An embedded IPv4 tail lies in the host half: it never reaches the first four groups.
  const groups = address.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
  return groups.slice(0, 4).map((g) => parseInt(g || '0', 16).toString(16)).join(':') + '::/64';
}

/** A token bucket per address (per /64 for IPv6), drained by failed authentications. */
export class AuthFailureThrottle {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly perMs: number;

  constructor(private readonly opts: ThrottleOptions = DEFAULT_THROTTLE) {
    this.perMs = opts.perMinute / 60_000;
  }

  /** Counts a failure; answers 0 when the address may be told 401, else the seconds it must wait (429). */
  fail(clientAddress: string, now: number): number {
    const address = throttleKeyOf(clientAddress);
    const b = this.buckets.get(address) ?? { tokens: this.opts.burst, at: now };
    b.tokens = Math.min(this.opts.burst, b.tokens + Math.max(0, now - b.at) * this.perMs);
    b.at = now;
    // Re-insert so the map's order is least recently failed first.
    this.buckets.delete(address);
    this.buckets.set(address, b);
    if (this.buckets.size > MAX_TRACKED) this.buckets.delete(this.buckets.keys().next().value!);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / this.perMs / 1000));
  }
}
