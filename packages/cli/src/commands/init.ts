import { initStoreAt, isPostgresUrl, KeywardError, redactUrl, safeText, storeLocation } from '@keyward/core';
import type { ParsedCommand } from '../argv.js';
import type { Output } from '../io.js';
import { actorOf, defaultActor, serverOf, shellWord, storeChoice } from '../connect.js';
import { expectArgs } from './command.js';

export async function init(cmd: ParsedCommand, env: NodeJS.ProcessEnv, out: Output): Promise<number> {
  expectArgs(cmd, 0, 0, '');
  if (serverOf(cmd, env)) throw new KeywardError('INVALID_INPUT', '`keyward init` creates a local store; run it on the server host, without --server.');
  const choice = storeChoice(cmd, env);
  const path = choice.path;
  const admin = (cmd.flags.admin as string | undefined) ?? actorOf(cmd, env);
  const tenant = (cmd.flags.tenant as string | undefined) ?? 'default';
  // A PostgreSQL store gets its schema here (migrated under a lock, so servers starting meanwhile wait).
  const tenantRecord = await initStoreAt(path, { tenant, admin });
  const where = storeLocation(path);
  if (!tenantRecord) throw new KeywardError('INVALID_INPUT', `A Keyward store already exists at ${where}; it was left as it is.`);
  // The hints never repeat a database password: PGPASSWORD (or the whole URL in KEYWARD_STORE) supplies it.
  const hidden = choice.namedBy === '--store' && isPostgresUrl(path) && redactUrl(path) !== path;
  out.result({ store: where, tenant: { id: tenantRecord.id, name: tenantRecord.name }, admin: { id: admin, name: admin, licence: true, roles: ['TenantAdmin'] } }, () =>
    [
      `Created a Keyward store at ${where}.`,
      `Tenant "${safeText(tenant)}" (${tenantRecord.id}); first admin: ${safeText(admin)} (licence, TenantAdmin).`,
      'Next, as the admin:',
      ...nextSteps(admin, choice.namedBy === '--store' ? where : undefined, env).map((line) => `  ${line}`),
      ...(hidden ? ['(The password is left out above: set PGPASSWORD, or put the whole URL in KEYWARD_STORE.)'] : []),
    ].join('\n'),
  );
  return 0;
}

/**
 * The first commands a new admin runs, written so that they run as printed:
 * `--as` when the admin is not who acts by default, `--store` when the store
 * was named on the command line (KEYWARD_STORE stays set in the same shell).
 */
export function nextSteps(admin: string, store: string | undefined, env: NodeJS.ProcessEnv): string[] {
  const prefix = ['keyward', ...(store ? ['--store', shellWord(store)] : []), ...(admin === defaultActor(env) ? [] : ['--as', shellWord(admin)])].join(' ');
  return [
    `${prefix} settings set --enabled on`,
    `${prefix} users set ${shellWord(admin)} --developer on`,
    `${prefix} keys create --description "my first key"`,
  ];
}
