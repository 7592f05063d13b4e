import { randomBytes } from 'node:crypto';
// Records the conformance tests put in a store: a tenant, users, keys and
// events with fixed times, so every adapter is asked the same questions.
import { type ApiKey, DEFAULT_SETTINGS, type KeywardEvent, type Tenant, type User } from '../../src/domain.js';

export const T0 = Date.parse('2026-05-01T12:00:00Z');
export const DAY = 86_400_000;
export const iso = (ms: number) => new Date(ms).toISOString();

export function tenant(): Tenant {
  return { id: 't1', name: 'T', created: iso(T0), settings: { ...DEFAULT_SETTINGS } };
}

export function user(id: string, admin = false): User {
  return { id, licence: true, roles: admin ? ['TenantAdmin', 'Developer'] : ['Developer'], created: iso(T0) };
}

/** Key i: owner alternates bob/carol, created i seconds after T0, expires 30 - i minutes after T0. */
export function key(i: number, over: Partial<ApiKey> = {}): ApiKey {
  const id = i.toString(16).padStart(24, '0');
  return { id, description: `key ${String(i).padStart(2, '0')}`, owner: i % 2 ? 'bob' : 'carol', createdBy: 'alice', created: iso(T0 + i * 1000), lastUpdated: iso(T0), expiry: iso(T0 + (30 - i) * 60_000), hash: 'h'.repeat(64), ...over };
}

let n = 0;
/** An event at `at` whose id sorts by time and is unique across processes, as newEvent's are. */
export function event(type: KeywardEvent['eventType'], at: number, userId: string, keyId?: string): KeywardEvent {
  n++;
  return { id: at.toString(36).padStart(9, '0') + randomBytes(5).toString('hex'), eventType: type, eventTime: iso(at), userId, ...(keyId ? { keyId } : {}), data: { n } };
}

export const ids = (page: { data: { id: string }[] }) => page.data.map((k) => k.id);
