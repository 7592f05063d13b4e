import { readFileSync } from 'node:fs';
import { type ErrorCode, type KeyQuery, type KeyService, type KeySort, KeywardError, VERIFY_FAILURE_TEXT, safeText } from '@keyward/core';
import { type Command, expectArgs } from './command.js';
import { confirm } from '../confirm.js';
import { keyDetails, keysTable, relative } from '../format.js';
import { str, wholeNumber } from '../options.js';
import { UsageError } from '../usage-error.js';
import { print } from '../io.js';

export const listKeys: Command = async ({ service, out, cmd }) => {
  expectArgs(cmd, 0, 0, '');
  const f = cmd.flags;
  const query: KeyQuery = {
    search: str(f.search),
    status: str(f.status) as KeyQuery['status'],
    sub: str(f.owner),
    sort: str(f.sort) as KeySort | undefined,
    limit: wholeNumber(f.limit, '--limit') ?? 100,
  };
  const page = await service.listKeys(query);
  out.result({ data: page.data }, () => (page.data.length === 0 ? 'No keys.' : keysTable(page.data)));
  if (page.total > page.data.length) out.note(`Showing ${page.data.length} of ${page.total} keys; use --limit or --search to see others.`);
};

export const createKey: Command = async ({ service, out, cmd }) => {
  expectArgs(cmd, 0, 0, '');
  const description = str(cmd.flags.description);
  if (description === undefined) throw new UsageError('Give the key a --description.', cmd.usage);
  const key = await service.generateKey({ description, expiry: str(cmd.flags.expiry) });
  out.result(key, () => key.token);
  out.note(`Generated key ${key.id} "${safeText(key.description)}" for ${safeText(key.sub)}, expiring ${key.expiry} (${relative(key.expiry)}).`);
  out.note('The token above is shown this once and cannot be retrieved again: store it now.');
};

export const getKey: Command = async ({ service, out, cmd }) => {
  const [id] = expectArgs(cmd, 1, 1, 'the key id');
  const key = await service.getKey(await service.resolveKeyId(id));
  out.result(key, () => keyDetails(key));
};

export const renameKey: Command = async ({ service, out, cmd }) => {
  const [id, description] = expectArgs(cmd, 2, 2, 'the key id and its new description');
  const key = await service.renameKey(await service.resolveKeyId(id), description);
  out.result(key, () => `Renamed ${key.id} to "${safeText(key.description)}".`);
};

export const revokeKeys: Command = async ({ service, out, cmd }) => {
  const given = expectArgs(cmd, 1, Infinity, 'the id of the key to revoke');
  if (given.length === 1) {
    const key = await service.revokeKey(await service.resolveKeyId(given[0]));
    out.result({ revoked: [key], skipped: [] }, () => `Revoked ${key.id} "${safeText(key.description)}" (${safeText(key.sub)}).`);
    return;
  }
  const { ids, unresolved } = await resolveAll(service, given);
  await confirm(cmd, [`Revoke ${given.length} keys? Revoking is immediate and cannot be undone:`, ...(await keyLines(service, ids)), ...unresolved.map(unresolvedLine)], `Revoking ${given.length} keys`);
  const done = ids.length > 0 ? await service.revokeKeys(ids) : { revoked: [], skipped: [] };
  const report = { revoked: done.revoked, skipped: [...unresolved, ...done.skipped] };
  out.result(report, () =>
    [
      ...report.revoked.map((k) => `Revoked ${k.id} "${safeText(k.description)}" (${safeText(k.sub)}).`),
      ...report.skipped.map((s) => `Skipped ${safeText(s.id)}: ${s.message} (${s.code})`),
      `${report.revoked.length} revoked, ${report.skipped.length} left as they were.`,
    ].join('\n'),
  );
  return report.skipped.length > 0 ? 1 : 0;
};

export const removeKeys: Command = async ({ service, out, cmd, signedInKey }) => {
  if (cmd.flags.all === true) {
    expectArgs(cmd, 0, 0, '');
    const me = (await service.whoami()).user.id;
    const mine = await service.listKeys({ sub: me, limit: 100 });
    const ownToken = signedInKey !== undefined && mine.total > 0;
    const tokenLine = `This includes the key of KEYWARD_TOKEN (${signedInKey}): this command line is signed out once it is deleted.`;
    if (mine.total > 0) {
      await confirm(
        cmd,
        [
          `Delete all ${mine.total} of your keys (${safeText(me)})? Deleting is permanent; their tokens stop working at once:`,
          ...mine.data.slice(0, 10).map(keyLine),
          ...(mine.total > 10 ? [`  … and ${mine.total - 10} more`] : []),
          ...(ownToken ? [tokenLine] : []),
        ],
        `Deleting all ${mine.total} of your keys`,
      );
    }
    const r = await service.deleteAllKeys();
    out.result(r, () => `Deleted ${r.deleted} key${r.deleted === 1 ? '' : 's'}.`);
    if (ownToken && r.deleted > 0) {
      // Said even with --yes: the next command would fail with no hint why.
      print(process.stderr, `warning: the key of KEYWARD_TOKEN (${signedInKey}) was deleted too; KEYWARD_TOKEN no longer authenticates.\n`);
    }
    return;
  }
  const given = expectArgs(cmd, 1, Infinity, 'the id of the key to delete (or --all)');
  if (given.length === 1) {
    const id = await service.resolveKeyId(given[0]);
    await service.deleteKey(id);
    out.result({ deleted: [id], failed: [] }, () => `Deleted ${id}.`);
    return;
  }
  const { ids, unresolved } = await resolveAll(service, given);
  await confirm(cmd, [`Delete ${given.length} keys? Deleting is permanent; their tokens stop working at once:`, ...(await keyLines(service, ids)), ...unresolved.map(unresolvedLine)], `Deleting ${given.length} keys`);
  const deleted: string[] = [];
  const failed: { id: string; code: ErrorCode; message: string }[] = [...unresolved];
  for (const id of ids) {
    try {
      await service.deleteKey(id);
      deleted.push(id);
    } catch (e) {
      if (!(e instanceof KeywardError)) throw e;
      failed.push({ id, code: e.code, message: e.message });
    }
  }
  out.result({ deleted, failed }, () =>
    [...deleted.map((id) => `Deleted ${id}.`), ...failed.map((f) => `Not deleted ${safeText(f.id)}: ${f.message} (${f.code})`)].join('\n'),
  );
  return failed.length > 0 ? 1 : 0;
};

/** The token from standard input (its first line): a token in a command's arguments is visible to every process on the host. */
function tokenFromStdin(): string {
  let text: string;
  try {
    text = readFileSync(0, 'utf8');
  } catch {
    throw new KeywardError('INVALID_INPUT', 'Could not read the token from standard input.');
  }
  return text.split(/\r?\n/).find((line) => line.trim() !== '')?.trim() ?? '';
}

export const verifyKey: Command = async ({ service, out, cmd }) => {
  const [given] = expectArgs(cmd, 1, 1, 'the token to verify (or - to read it from standard input)');
  const token = given === '-' ? tokenFromStdin() : given;
  const r = await service.verifyToken(token);
  if (r.valid) {
    out.result(r, () => `valid: key ${r.key.id} "${safeText(r.key.description)}" of ${safeText(r.key.sub)}, expiring ${r.key.expiry} (${relative(r.key.expiry)}).`);
    return 0;
  }
  if (out.json) out.result(r, () => '');
  else print(process.stderr, `error: ${VERIFY_FAILURE_TEXT[r.reason]} (UNAUTHENTICATED)\n`);
  return 1;
};

/** One line about a key for a confirmation: id, description, owner, status. */
function keyLine(k: { id: string; description: string; sub: string; status: string }): string {
  return `  ${k.id}  "${safeText(k.description)}" (${safeText(k.sub)}, ${k.status})`;
}

type Unresolved = { id: string; code: ErrorCode; message: string };

/** Whole ids for what was typed (ids or prefixes), each once; what names no single key is set aside with its refusal. */
async function resolveAll(service: KeyService, given: string[]): Promise<{ ids: string[]; unresolved: Unresolved[] }> {
  const ids = new Set<string>();
  const unresolved: Unresolved[] = [];
  for (const text of [...new Set(given)]) {
    try {
      ids.add(await service.resolveKeyId(text));
    } catch (e) {
      if (!(e instanceof KeywardError)) throw e;
      unresolved.push({ id: text, code: e.code, message: e.message });
    }
  }
  return { ids: [...ids], unresolved };
}

function unresolvedLine(u: Unresolved): string {
  return `  ${safeText(u.id)}  (${u.code}: left as it is)`;
}

/** The keys a bulk command is about to change, as the actor may see them. */
async function keyLines(service: KeyService, ids: string[]): Promise<string[]> {
  const lines: string[] = [];
  for (const id of ids) {
    try {
      lines.push(keyLine(await service.getKey(id)));
    } catch (e) {
      if (!(e instanceof KeywardError)) throw e;
      lines.push(`  ${safeText(id)}  (${e.code}: left as it is)`);
    }
  }
  return lines;
}
