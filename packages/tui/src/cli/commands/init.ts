import { KeywardError, createJsonFileStore, initStore } from '@keyward/core';
import type { ParsedCommand } from '../argv.js';
import type { Output } from '../io.js';
import { actorOf, serverOf, storePathOf } from '../connect.js';
import { expectArgs } from './command.js';
import { safeText } from '../../text/safe.js';

export async function init(cmd: ParsedCommand, env: NodeJS.ProcessEnv, out: Output): Promise<number> {
  expectArgs(cmd, 0, 0, '');
  if (serverOf(cmd, env)) throw new KeywardError('INVALID_INPUT', '`keyward init` creates a local store; run it on the server host, without --server.');
  const path = storePathOf(cmd, env);
  const admin = (cmd.flags.admin as string | undefined) ?? actorOf(cmd, env);
  const tenant = (cmd.flags.tenant as string | undefined) ?? 'default';
  const store = createJsonFileStore(path);
  const created = await initStore(store, { tenant, admin });
  if (!created) throw new KeywardError('INVALID_INPUT', `A Keyward store already exists at ${path}; it was left as it is.`);
  const doc = (await store.read())!;
  out.result({ store: path, tenant: { id: doc.tenant.id, name: doc.tenant.name }, admin: { id: admin, name: admin, licence: true, roles: ['TenantAdmin'] } }, () =>
    [`Created a Keyward store at ${path}.`, `Tenant "${safeText(tenant)}" (${doc.tenant.id}); first admin: ${safeText(admin)} (licence, TenantAdmin).`, 'Next: keyward settings set --enabled on, then keyward users set ' + safeText(admin) + ' --developer on.'].join('\n'),
  );
  return 0;
}
