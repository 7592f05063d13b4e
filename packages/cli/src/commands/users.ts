import { KeywardError, printable, safeText } from '@keyward/core';
import { type Command, expectArgs } from './command.js';
import { confirm } from '../confirm.js';
import { usersTable } from '../format.js';
import { onOff } from '../options.js';
import { UsageError } from '../usage-error.js';

export const listUsers: Command = async ({ service, out, cmd }) => {
  expectArgs(cmd, 0, 0, '');
  const users = await service.listUsers();
  out.result({ data: users }, () => usersTable(users));
};

export const addUser: Command = async ({ service, out, cmd }) => {
  const [name] = expectArgs(cmd, 1, 1, 'the user name');
  const u = await service.addUser(name, { licence: cmd.flags.licence === true });
  out.result(u, () => `Added ${safeText(u.name)}${u.licence ? ' with a licence' : ' (no licence)'}.`);
};

export const setUser: Command = async ({ service, out, cmd }) => {
  const [name] = expectArgs(cmd, 1, 1, 'the user name');
  const patch = {
    licence: onOff(cmd.flags.licence, '--licence'),
    developer: onOff(cmd.flags.developer, '--developer'),
    admin: onOff(cmd.flags.admin, '--admin'),
  };
  if (Object.values(patch).every((v) => v === undefined)) throw new UsageError('Say what to change: --licence, --developer or --admin.', cmd.usage);
  const u = await service.updateUser(name, patch);
  out.result(u, () => usersTable([u]));
};

export const removeUser: Command = async ({ service, out, cmd }) => {
  const [name] = expectArgs(cmd, 1, 1, 'the user name');
  // Admins only (listUsers refuses anyone else), before anything is asked.
  const user = (await service.listUsers()).find((u) => u.name === name);
  if (!user) throw new KeywardError('USER_NOT_FOUND', `There is no user "${printable(name)}" in this tenant.`);
  const active = await service.listKeys({ sub: name, status: 'active', limit: 100 });
  await confirm(
    cmd,
    [
      `Remove ${safeText(name)} (${user.roles.join(', ') || 'no roles'})? ${active.total === 0 ? 'They have no active keys.' : `Their ${active.total} active key${active.total === 1 ? '' : 's'} will be revoked first, at once and for good:`}`,
      ...active.data.slice(0, 10).map((k) => `  ${k.id}  "${safeText(k.description)}"`),
      ...(active.total > 10 ? [`  … and ${active.total - 10} more`] : []),
    ],
    `Removing ${safeText(name)}`,
  );
  const r = await service.removeUser(name);
  out.result(r, () =>
    [...r.revoked.map((k) => `Revoked ${k.id} "${safeText(k.description)}".`), `Removed ${safeText(r.user.name)}; ${r.revoked.length} active key${r.revoked.length === 1 ? '' : 's'} revoked.`].join('\n'),
  );
};
