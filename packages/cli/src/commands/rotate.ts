// `keyward keys rotate ID [--overlap DURATION]`: a new token for a key
// without downtime. The new token goes to stdout once (for `TOKEN=$(…)`);
// what happened to the old one goes to stderr.

import { type Command, expectArgs } from './command.js';
import { relative } from '../format.js';
import { str } from '../options.js';
import { safeText } from '@keyward/core';

export const rotateKey: Command = async ({ service, out, cmd }) => {
  const [id] = expectArgs(cmd, 1, 1, 'the id of the key to rotate');
  const key = await service.rotateKey(await service.resolveKeyId(id), str(cmd.flags.overlap));
  const old = await service.getKey(key.rotatedFrom!);
  out.result(key, () => key.token);
  out.note(`Rotated ${old.id} "${safeText(old.description)}" to ${key.id}, expiring ${key.expiry} (${relative(key.expiry)}).`);
  out.note(`The old token works until ${old.expiry} (${relative(old.expiry)}); a use of it after that is refused and recorded.`);
  out.note('The new token above is shown this once and cannot be retrieved again: store it now.');
};
