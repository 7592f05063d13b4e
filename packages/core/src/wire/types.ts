// The bodies that travel between the server and the remote adapter, typed
// once: lists, errors and /users/me. Keys, users, settings, events and usage
// travel as core's views (views.ts) unchanged.

import type { ErrorCode } from '../refusal.js';
import type { WhoAmI } from '../service.js';
import type { SettingsView, UserView } from '../views.js';
import { pathOf } from './routes.js';

export interface WireLink {
  href: string;
}

/** A list as Qlik's are: ready-made links carrying the cursors, plus Keyward's meta.total. */
export interface WirePage<T> {
  data: T[];
  links: { self: WireLink; next?: WireLink; prev?: WireLink };
  meta: { total: number };
}

/** Every error the API answers (behaviour §3): core's code, title and status, and the sentence. */
export interface WireErrors {
  errors: { code: ErrorCode; title: string; detail: string; status: number }[];
}

/** GET /users/me: the user as any user view (Qlik's fields first), then the tenant, its settings and what the user may do. */
export interface WireMe extends UserView {
  tenantId: string;
  tenant: WhoAmI['tenant'];
  settings: SettingsView;
  canGenerate: WhoAmI['canGenerate'];
  may: WhoAmI['may'];
  /** Where the tenant's API-key settings are, so a script need not build the URL. */
  links: { config: WireLink };
}

/** whoami as /users/me answers it. */
export function meBody(me: WhoAmI): WireMe {
  const { user, tenant, settings, canGenerate, may } = me;
  // Spelled out: V8 makes `{...user, more}` a slow object, ~100× dearer to build and to serialise, on the API's busiest route.
  return {
    id: user.id,
    name: user.name,
    licence: user.licence,
    roles: user.roles,
    actions: user.actions,
    tenantId: tenant.id,
    tenant,
    settings,
    canGenerate,
    may,
    links: { config: { href: pathOf('config', { tenantId: tenant.id }) } },
  };
}

/** whoami from /users/me's answer; `location` is the server's URL. */
export function whoamiOf(me: WireMe, location: string): WhoAmI {
  return {
    user: { id: me.id, name: me.name, licence: me.licence, roles: me.roles, actions: me.actions },
    tenant: me.tenant,
    settings: me.settings,
    location,
    canGenerate: me.canGenerate,
    may: me.may,
  };
}
