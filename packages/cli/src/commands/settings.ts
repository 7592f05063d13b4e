import type { Command } from './command.js';
import { settingsText } from '../format.js';
import { onOff, str, wholeNumber } from '../options.js';
import { UsageError } from '../usage-error.js';

export const showSettings: Command = async ({ service, out }) => {
  const s = await service.getSettings();
  out.result(s, () => settingsText(s));
};

export const setSettings: Command = async ({ service, out, cmd }) => {
  const f = cmd.flags;
  const patch = {
    api_keys_enabled: onOff(f.enabled, '--enabled', 'INVALID_SETTING'),
    max_api_key_expiry: str(f.maxExpiry),
    max_keys_per_user: wholeNumber(f.maxKeys, '--max-keys', 'INVALID_SETTING'),
    excessive_use_per_minute: wholeNumber(f.excessiveUse, '--excessive-use', 'INVALID_SETTING'),
    events_retention: str(f.retention),
  };
  if (Object.values(patch).every((v) => v === undefined)) throw new UsageError('Say which setting to change.', cmd.usage);
  const s = await service.updateSettings(patch);
  out.result(s, () => settingsText(s));
};
