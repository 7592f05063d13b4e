// What stands between a person and their first key, and what fixes it. A new
// tenant admin meets these one after another on an empty store (API keys
// off, no Developer role): each says what fixes it and, when the person may
// fix it, offers to do it there and then — no leaving for another screen.

import type { KeyService, RefusalCode, WhoAmI } from '@keyward/core';

export interface Blocker {
  code: RefusalCode;
  message: string;
  /** What fixes it, in a sentence. */
  advice: string;
  /** When the person may fix it here: what `y` does, and doing it. */
  fix?: { offer: string; run(service: KeyService): Promise<unknown> };
}

export function blockerOf(me: WhoAmI): Blocker | null {
  if (me.canGenerate.ok) return null;
  const { code, message } = me.canGenerate;
  // Whether the person may fix it here is core's answer (whoami's may, and their own user view's actions).
  const settings = me.may.changeSettings.ok;
  const { setRoles, setLicence } = me.user.actions;
  const self = me.user.id;
  switch (code) {
    case 'API_KEYS_DISABLED':
      return settings
        ? { code, message, advice: 'As a tenant admin you can turn them on (Settings, 3).', fix: { offer: 'press y to enable API keys for the tenant', run: (s) => s.updateSettings({ api_keys_enabled: true }) } }
        : { code, message, advice: 'Ask a tenant admin to enable API keys.' };
    case 'DEVELOPER_ROLE_REQUIRED':
      return setRoles
        ? { code, message, advice: 'As a tenant admin you can give yourself the role (Users, 4).', fix: { offer: 'press y to give yourself the Developer role', run: (s) => s.updateUser(self, { developer: true }) } }
        : { code, message, advice: 'Ask a tenant admin for the Developer role.' };
    case 'LICENCE_REQUIRED':
      return setLicence
        ? { code, message, advice: 'As a tenant admin you can give yourself a licence (Users, 4).', fix: { offer: 'press y to give yourself a licence', run: (s) => s.updateUser(self, { licence: true }) } }
        : { code, message, advice: 'Ask a tenant admin for a licence.' };
    case 'KEY_LIMIT_REACHED':
      return {
        code,
        message,
        advice: settings ? 'Delete one of your keys (d), or raise the maximum active keys per user in Settings (3).' : 'Delete one of your keys (d), or ask a tenant admin to raise the limit.',
      };
    default:
      return { code, message, advice: 'A tenant admin can tell you more.' };
  }
}
