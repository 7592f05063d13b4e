// /api/v1/api-keys/configs/{tenantId}: the tenant's API-key settings, read
// by anyone in the tenant, changed by a JSON Patch from a tenant admin.

import { KeywardError, ROUTES, type SettingsPatch, printable } from '@keyward/core';
import { readJson } from '../body.js';
import { PATCH_EXAMPLES, patchObject, replacements } from '../json-patch.js';
import type { Call, Handler } from '../router.js';

async function checkTenant(call: Call): Promise<void> {
  const id = call.params.tenantId;
  if ((await call.engine.store.tenant())?.id !== id) {
    throw new KeywardError('NOT_FOUND', `There is no tenant "${printable(id)}" here; GET ${ROUTES.me} gives your tenantId.`);
  }
}

export const getConfig: Handler = async (call) => {
  await checkTenant(call);
  return { status: 200, body: await call.service.getSettings() };
};

export const patchConfig: Handler = async (call) => {
  await checkTenant(call);
  const fields = replacements(await readJson(call.req), PATCH_EXAMPLES.config);
  const settings = await call.service.updateSettings(patchObject(fields) as SettingsPatch);
  return call.wantsRepresentation ? { status: 200, body: settings, headers: { 'Preference-Applied': 'return=representation' } } : { status: 204 };
};
