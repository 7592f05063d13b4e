import type { EventType } from '@keyward/core';
import { type Command, expectArgs } from './command.js';
import { eventsTable, usageTable } from '../format.js';
import { str, wholeNumber } from '../options.js';

export const listEvents: Command = async ({ service, out, cmd }) => {
  expectArgs(cmd, 0, 0, '');
  const f = cmd.flags;
  const page = await service.listEvents({
    type: str(f.type) as EventType | undefined,
    hideUsage: f.hideUsage === true ? true : undefined,
    keyId: f.key === undefined ? undefined : await service.resolveKeyId(String(f.key)),
    userId: str(f.user),
    since: str(f.since),
    limit: wholeNumber(f.limit, '--limit') ?? 50,
  });
  out.result({ data: page.data }, () => (page.data.length === 0 ? 'No events.' : eventsTable(page.data)));
  // Stores that keep events in day segments do not count every match (that would read them all): say only that more exist.
  if (page.next) out.note(`Showing the newest ${page.data.length} events; older ones match too: use --limit or filters to see them.`);
};

export const showUsage: Command = async ({ service, out, cmd }) => {
  expectArgs(cmd, 0, 0, '');
  const rows = await service.usage({ since: str(cmd.flags.since) });
  out.result({ data: rows }, () => (rows.length === 0 ? 'No uses recorded.' : usageTable(rows)));
};
