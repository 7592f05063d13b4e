// The tenant's API-key settings (behaviour §1): read by anyone in the tenant,
// changed by a tenant admin, each change one `api-keys-config.updated` event.

import { type Settings, type Tenant, type User, isAdmin, settingsOf } from '../domain.js';
import { parseDuration, printable } from '../duration.js';
import { newEvent } from '../events.js';
import { checkAdmin, checkGenerate, checkSettings, enforce, viewerActions } from '../policy.js';
import { refuse } from '../refusal.js';
import type { SettingsPatch, WhoAmI } from '../service.js';
import { SETTING_FIELDS, type SettingsView, settingsView, userView } from '../views.js';
import type { ActorContext } from './context.js';

/** Everything whoami is made of, read from the store. */
export interface WhoAmIReads {
  tenant: Tenant;
  actor: User;
  activeKeys: number;
  /** How many admins the tenant has; only an admin's view needs it (0 otherwise). */
  admins: number;
}

export async function whoamiReads(c: ActorContext): Promise<WhoAmIReads> {
  // Asked together, so a store that catches up before each read (the JSON store) does so once for all three.
  const now = c.now;
  // Both counts are hints (ReadOptions): creating a key and leaving the admins check them again under the lock.
  const [{ tenant, actor }, activeKeys] = await Promise.all([c.read(), c.store.countActiveKeys(c.actorName, now, { hint: true })]);
  // What one may do to oneself hangs on the last-admin rule; only an admin's view needs the count.
  const admins = isAdmin(actor) ? (await c.store.listUsers({ hint: true })).filter(isAdmin).length : 0;
  return { tenant, actor, activeKeys, admins };
}

/** whoami from what it is made of: nothing else (not the time) goes into it. */
export function whoamiFrom({ tenant, actor, activeKeys, admins }: WhoAmIReads, location: string): WhoAmI {
  const settings = settingsOf(tenant);
  const check = checkGenerate({ actor, owner: actor, settings, activeKeys });
  return {
    user: userView(actor, { actor }, admins),
    tenant: { id: tenant.id, name: tenant.name },
    settings: settingsView(settings),
    location,
    canGenerate: check.ok ? { ok: true } : { ok: false, code: check.refusal.code, message: check.refusal.message },
    may: viewerActions(actor),
  };
}

export async function whoami(c: ActorContext): Promise<WhoAmI> {
  return whoamiFrom(await whoamiReads(c), c.store.location);
}

export async function getSettings(c: ActorContext): Promise<SettingsView> {
  return settingsView(settingsOf((await c.read()).tenant));
}

/** Durations kept in their canonical ISO text (30d becomes P30D). */
const DURATION_SETTINGS = ['maxKeyLifetime', 'eventsRetention'] as const;

export async function updateSettings(c: ActorContext, patch: SettingsPatch): Promise<SettingsView> {
  if (!patch || typeof patch !== 'object' || Array.isArray(patch)) refuse('INVALID_SETTING', 'Settings must be given as fields and values.');
  const mapped: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) continue;
    const field = Object.hasOwn(SETTING_FIELDS, k) ? SETTING_FIELDS[k as keyof SettingsView] : undefined;
    if (!field) refuse('INVALID_SETTING', `"${printable(k)}" is not a setting; use ${Object.keys(SETTING_FIELDS).join(', ')}.`);
    mapped[field] = typeof v === 'string' && (DURATION_SETTINGS as readonly string[]).includes(field) ? v.trim() : v;
  }
  return c.change(({ tx, tenant, actor, now }) => {
    enforce(checkAdmin(actor));
    enforce(checkSettings(mapped));
    const before = settingsOf(tenant);
    const after: Settings = { ...before, ...(mapped as Partial<Settings>) };
    for (const field of DURATION_SETTINGS) if (typeof mapped[field] === 'string') after[field] = parseDuration(mapped[field])!.iso;
    const changes: Record<string, { from: unknown; to: unknown }> = {};
    for (const [wire, field] of Object.entries(SETTING_FIELDS)) {
      if (before[field] !== after[field]) changes[wire] = { from: before[field], to: after[field] };
    }
    if (Object.keys(changes).length > 0) {
      tx.putTenant({ ...tenant, settings: after });
      tx.emit(newEvent('api-keys-config.updated', now, actor.id, undefined, { changes }));
    }
    return settingsView(after);
  });
}
