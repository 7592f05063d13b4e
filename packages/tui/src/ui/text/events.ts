// How an event reads in a list: a short type and one line of what happened,
// built from its details. Everything here is stored text, so the list makes
// it inert before drawing it.

import type { EventType, EventView } from '@keyward/core';

/** "generated" for api-key.generated, "config.updated" for api-keys-config.updated. */
export function shortType(type: EventType | string): string {
  return type.replace(/^api-keys?-?\.?/, '');
}

const str = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : JSON.stringify(v));
const quoted = (v: unknown): string => `"${str(v)}"`;

export function eventSummary(e: EventView): string {
  const d = e.data ?? {};
  switch (e.eventType) {
    case 'api-key.generated':
      return `${quoted(d.description)} for ${str(d.sub)}, lifetime ${str(d.lifetime)}`;
    case 'api-key.renamed':
      return `${quoted(d.from)} → ${quoted(d.to)}`;
    case 'api-key.revoked':
    case 'api-key.deleted':
      return `${quoted(d.description)} of ${str(d.sub)}`;
    case 'api-key.used':
      return `${str(d.uses)} use${d.uses === 1 ? '' : 's'}`;
    case 'api-key.auth-failed':
      return `${str(d.count)} failed: ${Object.entries((d.reasons as Record<string, number>) ?? {})
        .map(([r, n]) => `${n} ${r}`)
        .join(', ')}`;
    case 'api-key.excessive-use':
      return `${str(d.usesInMinute)} uses in a minute (threshold ${str(d.threshold)})`;
    case 'api-key.leaked':
      return `found at ${str(d.url) || 'an unnamed place'}${d.source ? ` (${str(d.source)})` : ''}${d.revoked ? ', revoked' : ''}`;
    case 'api-key.rotated':
      return `→ ${str(d.rotatedTo)}, old token ends ${str(d.oldExpiry)}`;
    case 'api-key.new-address':
      return `used from ${str(d.address)}`;
    case 'api-key.reused-after-rotation':
      return `old token used ${str(d.count)}× after its rotation overlap`;
    case 'api-keys-config.updated':
      return Object.entries((d.changes as Record<string, { from: unknown; to: unknown }>) ?? {})
        .map(([k, c]) => `${k} ${str(c?.from)} → ${str(c?.to)}`)
        .join(', ');
    case 'user.added':
      return `${str(d.user)}${d.licence ? ', licence' : ''}${Array.isArray(d.roles) && d.roles.length ? ', ' + d.roles.join(', ') : ''}`;
    case 'user.updated': {
      const from = d.from as { licence?: boolean; roles?: string[] } | undefined;
      const to = d.to as { licence?: boolean; roles?: string[] } | undefined;
      const parts: string[] = [];
      if (from?.licence !== to?.licence) parts.push(to?.licence ? 'licence given' : 'licence taken');
      for (const r of to?.roles ?? []) if (!from?.roles?.includes(r)) parts.push(`${r} given`);
      for (const r of from?.roles ?? []) if (!to?.roles?.includes(r)) parts.push(`${r} taken`);
      return `${str(d.user)}: ${parts.join(', ') || 'no change'}`;
    }
    default:
      return str(d);
  }
}

/** Every detail as "name: value" lines, nested objects flattened with dots. */
export function detailLines(data: Record<string, unknown>, prefix = ''): string[] {
  const lines: string[] = [];
  for (const [k, v] of Object.entries(data ?? {})) {
    if (v && typeof v === 'object' && !Array.isArray(v)) lines.push(...detailLines(v as Record<string, unknown>, `${prefix}${k}.`));
    else lines.push(`${prefix}${k}: ${str(v)}`);
  }
  return lines;
}
