import { type Command, expectArgs } from './command.js';
import { usersTable } from '../format.js';
import { onOff } from '../options.js';
import { safeText } from '../../text/safe.js';
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
