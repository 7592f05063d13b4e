// `keyward scan`: finds Keyward tokens in files before they leak, and says
// whose key each one is and whether it still works. The token itself is never
// printed, not even in part: the output of a scan ends up in CI logs.

import { type ErrorCode, type GitFailed, type KeyService, type KeyStatus, KeywardError, gitFallbackText, safeText } from '@keyward/core';
import type { CommandContext } from './command.js';
import { type ScannedFile, scanPaths, scanStaged } from '../scan/sources.js';
import { table } from '../format.js';
import { print } from '../io.js';

/** `unknown`: no key with this id that the actor may see (deleted, never existed, or someone else's). */
export type FindingStatus = KeyStatus | 'unknown';

export interface Finding {
  path: string;
  line: number;
  column: number;
  keyId: string;
  status: FindingStatus;
  sub?: string;
}

interface KeyFacts {
  status: FindingStatus;
  sub?: string;
}

async function factsOf(service: KeyService, keyIds: string[]): Promise<Map<string, KeyFacts>> {
  const facts = new Map<string, KeyFacts>();
  for (const id of keyIds) {
    try {
      const key = await service.getKey(id);
      facts.set(id, { status: key.status, sub: key.sub });
    } catch (e) {
      if (!(e instanceof KeywardError) || e.code !== 'KEY_NOT_FOUND') throw e;
      facts.set(id, { status: 'unknown' });
    }
  }
  return facts;
}

interface Removal {
  revoked: string[];
  deleted: string[];
  skipped: { keyId: string; code: ErrorCode; message: string }[];
}

/**
 * Shuts off every active key found: deleted where its view lets this user
 * delete it (their own), revoked otherwise (an admin). A found token must first authenticate: a string with a
 * real key id and a made-up secret passes the checksum, and must not let
 * whoever planted it get a key revoked.
 */
async function removeActive(service: KeyService, files: ScannedFile[], facts: Map<string, KeyFacts>): Promise<Removal> {
  const done: Removal = { revoked: [], deleted: [], skipped: [] };
  const tokenOf = new Map<string, string>();
  for (const f of files) for (const t of f.tokens) if (facts.get(t.keyId)?.status === 'active' && !tokenOf.has(t.keyId)) tokenOf.set(t.keyId, t.token);
  for (const [keyId, token] of tokenOf) {
    const check = await service.verifyToken(token);
    if (!check.valid || check.key.id !== keyId) {
      done.skipped.push({ keyId, code: 'UNAUTHENTICATED', message: 'The token found does not authenticate, so its key was left as it is.' });
      continue;
    }
    try {
      // The key's view says what this user may do to it (core decides): delete it, or else revoke it — refused, with core's reason, when neither.
      if (check.key.actions.delete) {
        await service.deleteKey(keyId);
        done.deleted.push(keyId);
      } else {
        await service.revokeKey(keyId);
        done.revoked.push(keyId);
      }
    } catch (e) {
      if (!(e instanceof KeywardError)) throw e;
      done.skipped.push({ keyId, code: e.code, message: e.message });
    }
  }
  return done;
}

/** `noStore`: the default store's path, when there is no store there yet (the keys are then unknown, and no store is made). */
type ScanContext = Omit<CommandContext, 'service'> & { service?: KeyService; noStore?: string };

export const scan = async ({ service, out, cmd, noStore }: ScanContext): Promise<number> => {
  // --staged asks git only, and refuses when git cannot answer.
  const { files, scanned, gitFailed } = cmd.flags.staged === true ? { ...scanStaged(cmd.args), gitFailed: [] as GitFailed[] } : await scanPaths(cmd.args);
  // On stderr even with --json: the list of files was not the one git would commit (a hook's log should say so).
  for (const f of gitFailed) {
    print(process.stderr, `warning: ${gitFallbackText(f)}\n`);
  }
  const keyIds = [...new Set(files.flatMap((f) => f.tokens.map((t) => t.keyId)))];
  const facts = service ? await factsOf(service, keyIds) : new Map(keyIds.map((id): [string, KeyFacts] => [id, { status: 'unknown' }]));
  const data: Finding[] = files.flatMap((f) =>
    f.tokens.map((t) => {
      const k = facts.get(t.keyId)!;
      return { path: f.path, line: t.line, column: t.column, keyId: t.keyId, status: k.status, ...(k.sub !== undefined ? { sub: k.sub } : {}) };
    }),
  );
  const active = data.filter((d) => d.status === 'active');
  const removal = cmd.flags.revoke === true && active.length > 0 && service ? await removeActive(service, files, facts) : undefined;
  out.result(removal ? { data, ...removal } : { data }, () =>
    data.length === 0
      ? ''
      : table(
          ['WHERE', 'KEY', 'OWNER', 'STATUS'],
          data.map((d) => [`${safeText(d.path)}:${d.line}:${d.column}`, d.keyId, d.sub === undefined ? '-' : safeText(d.sub), d.status]),
        ),
  );
  const where = cmd.flags.staged === true ? 'staged file' : 'file';
  out.note(
    data.length === 0
      ? `No Keyward tokens in ${scanned} ${where}${scanned === 1 ? '' : 's'}.`
      : `${data.length} Keyward token${data.length === 1 ? '' : 's'} in ${files.length} of ${scanned} ${where}${scanned === 1 ? '' : 's'}; ${active.length} of a key that is active.`,
  );
  if (noStore !== undefined && data.length > 0) {
    out.note(`There is no Keyward store at ${safeText(noStore)} yet, so whose keys these are and whether they work is unknown (none was created). Name the store or server that issued them (--store, --server) to know.`);
  }
  if (removal) {
    for (const id of removal.deleted) out.note(`Deleted key ${id}.`);
    for (const id of removal.revoked) out.note(`Revoked key ${id}.`);
    for (const s of removal.skipped) out.note(`Left key ${s.keyId} as it was: ${s.message} (${s.code})`);
  } else if (active.length > 0) {
    out.note('An active token in a file works for whoever reads it: take it out, then rotate or revoke its key (or run keyward scan --revoke).');
  }
  return active.length > 0 ? 1 : 0;
};
